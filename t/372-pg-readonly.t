#!/usr/bin/perl
# Issue 14: PostgreSQL turns read-only (ALTER SYSTEM SET default_transaction_read_only = on +
# reload) under load, then writable again.  Inserts fail with SQLSTATE 25006: retried, never
# dead-lettered, never ACKed; reads stop at max_inflight; afterwards every valid record is stored
# exactly once (by content), every poison record is in the DLQ once, nothing pending.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use Time::HiRes qw(sleep);

my $S = 'telemetry:t';
my ($r, $pg, $p) = Harness::stack(config => {
    redis => { consumer_prefix => 'ro', block_ms => 200, batch_size => 100 },
    processor => { workers => 2, max_inflight => 2 } });
sub rows { $pg->psql('select count(*) from positions') }

my $g1 = Harness::gen(redis => $r, n => 2_000, devices => 20, seed => 721, poison => 50);
ok(wait_until(sub { rows() == $g1->{valid} && $r->pending($S, 'processor') == 0 }, timeout => 30,
    desc => 'warm-up'), 'warm-up stored');

$pg->psql('alter system set default_transaction_read_only = on');
$pg->psql('select pg_reload_conf()');
ok(wait_until(sub { $pg->psql('show default_transaction_read_only') eq 'on' }, timeout => 10,
    desc => 'read-only'), 'PostgreSQL is read-only');
my $mark = $p->mark;
my $before = rows();
my $g2 = Harness::gen(redis => $r, n => 3_000, devices => 30, seed => 722, poison => 50,
    base_ms => 1_900_000_000_000);
ok($p->wait_event(sqlstate => '25006', timeout => 20, from => $mark),
    'the refused write is logged with SQLSTATE 25006');
sleep 3;
is(rows(), $before, 'no row written while read-only');
my $held = $r->pending($S, 'processor');
cmp_ok($held, '>', 0, "the refused batches stay pending, not ACKed ($held)");
cmp_ok($held, '<=', 2 * 2 * 100, 'reads stop at max_inflight batches per worker');
ok($p->running, 'the daemon runs on');

$pg->psql('alter system reset default_transaction_read_only');
$pg->psql('select pg_reload_conf()');
Harness::expect_settled($r, $pg, [$g1, $g2], timeout => 40, name => 'after read-only');
is($p->stop, 0, 'clean exit');
done_testing;
