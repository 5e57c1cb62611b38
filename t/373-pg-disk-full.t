#!/usr/bin/perl
# Issue 14: PostgreSQL runs out of disk.  Simulated for real (not temp_file_limit, which only
# limits temporary files and never touches an INSERT): positions and its key index are moved to
# a tablespace on a 1 MiB tmpfs (root only; skipped otherwise), so inserts fail with SQLSTATE
# 53100 "could not extend file: No space left on device".  Retried, never dead-lettered or
# ACKed; after the tmpfs is grown (remount, size=64m) every valid record is stored exactly once
# (by content), every poison record is in the DLQ once, nothing pending.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use Time::HiRes qw(sleep);

plan skip_all => 'needs root to mount a tmpfs' if $> != 0;
Harness::need(qw(redis pg processor));
my $S = 'telemetry:t';
my $mnt = Harness::tmpdir('tiny');
chmod 0755, $mnt;
# Registered before the servers, so it is unmounted after PostgreSQL is stopped.
my $guard = Harness::register(bless { mnt => $mnt }, 'TinyMount');
sub TinyMount::_cleanup { my ($s) = @_; system('umount', '-l', $s->{mnt}) if $s->{mounted} }
my ($r, $pg, $p) = Harness::stack(config => {
    redis => { consumer_prefix => 'df', block_ms => 200, batch_size => 100 },
    processor => { workers => 1, max_inflight => 2 } });
my ($uid, $gid) = (getpwnam($Harness::PG_USER))[2, 3];
my ($rc, $out, $err) = Harness::run_cmd(['mount', '-t', 'tmpfs', '-o',
    "size=1m,mode=0700,uid=$uid,gid=$gid", 'tmpfs', $mnt]);
if ($rc != 0) {
	diag("mount tmpfs failed: $err");
	plan skip_all => 'cannot mount a tmpfs here';
}
$guard->{mounted} = 1;
$pg->psql("create tablespace tiny location '$mnt'");
$pg->psql('alter table positions set tablespace tiny');
$pg->psql('alter index positions_device_ts_key set tablespace tiny');
is($pg->psql(q{select t.spcname from pg_class c join pg_tablespace t on t.oid = c.reltablespace
    where c.relname = 'positions'}), 'tiny', 'positions lives on the 1 MiB tmpfs');

my $mark = $p->mark;
my $g = Harness::gen(redis => $r, n => 6_000, devices => 60, seed => 731, poison => 50);
ok($p->wait_event(sqlstate => '53100', timeout => 30, from => $mark),
    'the write fails with SQLSTATE 53100 (disk full) and is logged');
my $stuck = $pg->psql('select count(*) from positions');
sleep 2;
is($pg->psql('select count(*) from positions'), $stuck, "no progress while the disk is full ($stuck rows)");
cmp_ok($stuck, '<', $g->{valid}, 'the disk filled before every record was stored');
cmp_ok($r->pending($S, 'processor'), '>', 0, 'the refused batches stay pending, not ACKed');
ok($p->running, 'the daemon runs on');

($rc, $out, $err) = Harness::run_cmd(['mount', '-o', 'remount,size=64m', $mnt]);
is($rc, 0, 'disk space freed (tmpfs grown to 64 MiB)') or diag($err);
Harness::expect_settled($r, $pg, [$g], timeout => 40, name => 'after disk full');
is($p->stop, 0, 'clean exit');
done_testing;
