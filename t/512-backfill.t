#!/usr/bin/perl
# processor backfill decoded: after a multiplier change in io_mappings, rewrites
# positions.decoded of one family's rows in short chunks while processor ingests at
# 2 000 records/s; the result equals a fresh live insert of the same bag, the other family
# is untouched, no batch write waits a second, and a run killed with -9 resumes where its
# last chunk committed.  BACKFILL_ROWS scales the stored rows (default 200000).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use Time::HiRes qw(time sleep);

Harness::need('processor');
plan skip_all => 'tools/gen not built' unless -x Harness::builddir() . '/tools/gen';

my $ROWS = $ENV{BACKFILL_ROWS} // 200_000;
my $DEVS = 6;
my $BASE = 1777550400000;		# gen's default base
my $SHIFT = 10 * 86400 * 1000;		# the live copy: the same records ten days later
my $bin = Harness::builddir() . '/src/processor';
$ENV{PROCESSOR_IO_DIR} //= Harness::srcdir() . '/data/io';
my $t_start = time;

my ($r, $pg) = Harness::stack(ready => 0);
my $src = Harness::srcdir();
$pg->psql(Harness::slurp("$src/sql/directus/0001_contract.sql"));
$pg->psql(Harness::slurp("$src/sql/directus/0002_io_mappings_seed.sql"));
my $ev = $pg->psql(q{insert into events (code, name, status) values ('BF', 'backfill', 'running')
    returning id});
$pg->psql(q{insert into device_models (model, family) values ('FMB920', 'fmb'), ('FMC650', 'fm64')
    on conflict (model) do update set family = excluded.family});
# gen's devices are IMEI 356307042440000 + i: 0, 1 FMB920 (fmb), 2, 3 FMC650 (fm64), 4, 5
# without an entry (the default family, fmb).
my @dev = map { 356307042440000 + $_ } 0 .. $DEVS - 1;
$pg->psql(qq{insert into entries (event_id, car_number, device_id, device_model_id) values
    ($ev, '1', '$dev[0]', (select id from device_models where model = 'FMB920')),
    ($ev, '2', '$dev[1]', (select id from device_models where model = 'FMB920')),
    ($ev, '3', '$dev[2]', (select id from device_models where model = 'FMC650')),
    ($ev, '4', '$dev[3]', (select id from device_models where model = 'FMC650'))});
my $fmb = "('$dev[0]','$dev[1]','$dev[4]','$dev[5]')";
my $fm64 = "('$dev[2]','$dev[3]')";

my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
    processor => { workers => 1 }, redis => { block_ms => 200 },
    domain => { refresh_ms => 300 } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
my $conf = $p->config_path;
sub stored { $pg->psql('select count(*) from positions') }

Harness::gen(redis => $r, n => $ROWS, devices => $DEVS, seed => 7);
ok(wait_until(sub { stored() == $ROWS }, timeout => 120, desc => 'bulk stored'),
    "$ROWS rows stored") or BAIL_OUT('not stored');
diag(sprintf('stored %d rows in %.1f s', $ROWS, time - $t_start));

my $fm64_before = $pg->psql("select md5(string_agg(decoded::text, '' order by device_id, ts))
    from positions where device_id in $fm64");
# external_voltage (66) of fmb: 0.001 V -> 0.01 V; the workers take it at their next refresh
$pg->psql(q{update io_mappings set multiplier = 0.01 where family = 'fmb' and io_id = 66});
sleep 1.5;
my $wrong_sql = "select count(*) from positions where device_id in $fmb and attributes ? '66'
    and (decoded->'external_voltage'->>'value')::numeric
    is distinct from (attributes->>'66')::numeric * 0.01";
my $to_change = $pg->psql($wrong_sql);
cmp_ok($to_change, '>', $ROWS / 3, "rows to change: $to_change (fmb rows carrying io 66)");

# live ingest at 2 000 records/s: the same records (same seed) ten days later
my $live_n = 2000 * 120;
my $glog = Harness::tmpdir() . '/gen-live.log';
my $gen = Harness::spawn(cmd => [Harness::builddir() . '/tools/gen', '-q', '-u', $r->url,
    '-n', $live_n, '-d', $DEVS, '-S', 7, '-r', 2000, '-t', $BASE + $SHIFT], log => $glog);
sleep 1;

sub hist
{
	my $m = $p->metrics;
	return ($m->{'processor_write_duration_seconds_count'} // 0,
	    $m->{'processor_write_duration_seconds_bucket{le="1"}'} // 0);
}
my ($c0, $b0) = hist();

# Samples while a backfill runs: the longest lock wait of processor's own backends
# (pg_locks.waitstart of a lock not granted; relation extension waits included), and the
# backfill's locks on positions (it may hold only AccessShare and RowExclusive there).
my ($maxwait, $samples, %modes, %waits) = (0, 0);
sub sample
{
	for (split /\n/, $pg->psql(q{select a.wait_event || ' ' ||
	    extract(epoch from now() - l.waitstart) from pg_locks l
	    join pg_stat_activity a on a.pid = l.pid
	    where not l.granted and a.application_name like 'processor%'
	    and a.application_name <> 'processor-backfill'})) {
		my ($ev, $s) = split / /;
		$waits{$ev}++;
		$maxwait = $s if $s > $maxwait;
	}
	$modes{$_} = 1 for grep { length } split /\n/, $pg->psql(q{select distinct l.mode
	    from pg_locks l join pg_stat_activity a on a.pid = l.pid
	    where a.application_name = 'processor-backfill' and l.relation = 'positions'::regclass
	    and l.locktype = 'relation'});	# not 'extend': growing the file is no table lock
	$samples++;
}

# run 1, killed -9 mid-run (chunks of 2000 rows)
my $log1 = Harness::tmpdir() . '/backfill1.log';
my $t1 = time;
my $bf = Harness::spawn(cmd => [$bin, '-c', $conf, 'backfill', 'decoded', '--family', 'fmb',
    '--chunk', 2000], log => $log1);
my $done1 = 0;
my $deadline = time + 60;
while (time < $deadline) {
	sample();
	$done1 = $pg->psql(q{select coalesce(max(changed), 0) from backfill_jobs}) || 0;
	last if $done1 >= $to_change / 3;
	last unless Harness::pid_alive($bf);
	sleep 0.05;
}
kill 'KILL', $bf;
waitpid($bf, 0);
my $job = $pg->psql(q{select examined || ' ' || changed || ' ' || (finished_at is null)
    from backfill_jobs});
my ($ex1, $ch1, $open1) = split / /, $job;
diag(sprintf('run 1 killed after %.1f s: job %s', time - $t1, $job));
ok($ch1 > 0 && $ch1 < $to_change && $open1 eq 'true', "killed mid-run: $ch1 of $to_change changed, "
    . 'job not finished');

# run 2 resumes
my $t2 = time;
my $log2 = Harness::tmpdir() . '/backfill2.log';
$bf = Harness::spawn(cmd => [$bin, '-c', $conf, 'backfill', 'decoded', '--family', 'fmb'],
    log => $log2);
while (Harness::pid_alive($bf) && Harness::proc_state($bf) ne 'Z') {
	sample();
	sleep 0.1;
}
waitpid($bf, 0);
my $rc = $? >> 8;
my $out = Harness::slurp($log2);
diag(sprintf('run 2 in %.1f s: %s', time - $t2, $out));
is($rc, 0, 'resumed run exits 0');
like($out, qr/^resuming job "decoded family=fmb": \Q$ex1\E rows examined, \Q$ch1\E changed/m,
    'it resumes from the last committed chunk');
my ($ex, $ch) = $out =~ /^backfill decoded family=fmb: (\d+) rows examined, (\d+) changed/m;
is($ch, $to_change, "total changed over both runs = rows to change ($to_change)");
my $fmb_bulk = $pg->psql("select count(*) from positions where device_id in $fmb
    and ts < to_timestamp($BASE / 1000.0) + interval '5 days'");
cmp_ok($ex, '>=', $fmb_bulk, "examined $ex >= the family's stored rows ($fmb_bulk): "
    . 'nothing skipped across the kill');
is($pg->psql(q{select finished_at is not null from backfill_jobs}), 't', 'job finished');

my ($c1, $b1) = hist();
my $slow = ($c1 - $c0) - ($b1 - $b0);
diag("batch writes during the runs: " . ($c1 - $c0) . ", over 1 s: $slow; $samples samples, "
    . "lock waits seen: " . (join(', ', map { "$_ x$waits{$_}" } sort keys %waits) || 'none')
    . sprintf(', longest %.3f s', $maxwait) . "; backfill's locks on positions: "
    . join(', ', sort keys %modes));
cmp_ok($c1 - $c0, '>', 0, 'processor wrote batches during the backfill');
is($slow, 0, 'no batch write took over 1 s while the backfill ran (write_duration histogram)');
cmp_ok($maxwait, '<', 1, 'no processor backend seen waiting a second on a lock (pg_locks.waitstart)');
ok(!grep({ !/^(AccessShareLock|RowExclusiveLock)$/ } keys %modes),
    'the backfill takes no table lock beyond RowExclusive on positions');

kill 'TERM', $gen;
waitpid($gen, 0);
sleep 1;
my $n = stored();
ok(wait_until(sub { my $m = stored(); my $s = $m == $n; $n = $m; $s }, timeout => 30,
    interval => 1, desc => 'ingest settled'), 'live ingest drained');

is($pg->psql($wrong_sql), 0, 'every fmb row carrying io 66: value = raw x 0.01');
is($pg->psql("select md5(string_agg(decoded::text, '' order by device_id, ts))
    from positions where device_id in $fm64 and ts < to_timestamp($BASE / 1000.0) + interval '5 days'"),
    $fm64_before, 'fm64 rows untouched');
my $cmp = $pg->psql(qq{select count(*) || ' ' || count(*) filter (where a.decoded is distinct from
    b.decoded or a.attributes is distinct from b.attributes) from positions a join positions b
    on b.device_id = a.device_id and b.ts = a.ts + interval '$SHIFT milliseconds'});
my ($pairs, $diff) = split / /, $cmp;
cmp_ok($pairs, '>', 1000, "$pairs rows paired with a live insert of the same record");
is($diff, 0, 'each backfilled row decodes as its live insert did');

# a rerun of a finished job starts over and finds nothing to change; fm64 has nothing
($rc, $out) = Harness::run_cmd([$bin, '-c', $conf, 'backfill', 'decoded', '--family', 'fm64'],
    timeout => 120);
like($out, qr/family=fm64: \d+ rows examined, 0 changed/, 'fm64: nothing to change');
($rc, $out) = Harness::run_cmd([$bin, '-c', $conf, 'backfill', 'decoded', '--device', $dev[4],
    '--from', '2026-04-30 12:00:00+00', '--to', '2026-04-30 12:10:00+00'], timeout => 60);
is($rc, 0, '--device with --from/--to exits 0');
like($out, qr/device=$dev[4] from=2026-04-30 12:00:00\+00 to=2026-04-30 12:10:00\+00: 601 rows examined, 0 changed/,
    '--device --from --to: the window, inclusive, nothing left to change');
my $err;
($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $conf, 'backfill', 'decoded', '--family', 'fmb',
    '--device', $dev[0]]);
is($rc, 64, '--family with --device: usage (64)');
($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $conf, 'backfill', 'decoded', '--family', 'nope']);
is($rc, 64, 'an unknown family: 64');
like($err, qr/--family nope: not in the IO dictionary/, 'and says so');

is($p->stop, 0, 'clean stop');
$p->check_log;
diag(sprintf('t/512 total %.1f s', time - $t_start));
done_testing();
