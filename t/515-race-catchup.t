#!/usr/bin/perl
# Catch-up pacing (processor-domain(7), [domain] catchup_interval_ms): while the workers read
# behind the stream, an evaluator evaluates a device at most once per interval and leaves its
# mark in race_dirty; the results after the drain are those of an unpaced run, column by
# column; not behind, nothing is held back.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use RaceTest;
use Time::HiRes qw(sleep time);

my $N = $ENV{PROCESSOR_TEST_RACE_N} // 30;
Harness::need(qw(processor racesim));

my ($r, $pg) = Harness::stack(ready => 0);
my $sim = RaceTest::simulate(vehicles => $N, stages => 1, seed => 515);
my $ev = RaceTest::load_event($pg, $sim);
my @recs = @{$sim->{records}};
my $nrec = scalar @recs;
diag("$N vehicles, 1 stage, $nrec records");

sub start
{
	my ($label, $interval) = @_;
	my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
	    processor => { workers => 1 },
	    redis => { block_ms => 200, batch_size => 20 },
	    domain => { refresh_ms => 1000, catchup_interval_ms => $interval } });
	ok($p->wait_ready(60), "processor ready ($label)") or BAIL_OUT('no start');
	return $p;
}

sub settle
{
	my ($label, $n) = @_;
	ok(wait_until(sub { RaceTest::settled($pg, $n) }, timeout => 300,
	    desc => "$label: stored and evaluated"), "$label: every fix stored and evaluated");
}

# Every metric once the master has the children's final numbers: poll until two reads agree.
sub final_metrics
{
	my ($p) = @_;
	my ($m, $prev);
	wait_until(sub {
		$prev = $m;
		$m = $p->metrics;
		return $prev && $m && $p->metric_sum($prev, 'processor_fixes_evaluated_total')
		    == $p->metric_sum($m, 'processor_fixes_evaluated_total');
	}, timeout => 30, interval => 1.2, desc => 'metrics steady');
	return $m;
}

# A backlog an hour old: every full read is an hour behind, however fast the test runs.
sub backlog
{
	my ($label, $interval, $fresh) = @_;
	RaceTest::reset($pg, $r) unless $fresh;	# the first run makes the tables
	my $p = start($label, $interval);
	# Each batch of 20 takes 20 ms more: a drain of about ten seconds, whatever the machine.
	$pg->slow_writes(0.02);
	$r->xadd_many('telemetry:t', [map { $_->{json} } @recs],
	    at_ms => int(time * 1000) - 3_600_000);
	settle($label, $nrec);
	$pg->slow_writes(0);
	my $m = final_metrics($p);
	my $snap = RaceTest::snapshot($pg);
	is($p->metric_sum($m, 'processor_backlog'), 0, "$label: not behind once drained");
	my $age = $p->metric_sum($m, 'processor_read_age_seconds');
	is($age, 0, "$label: read age 0 at the stream's end");
	is($p->stop, 0, "$label: clean stop");
	my $behind = grep { /workers behind the stream/ } $p->raw_lines;
	my $caught = grep { /workers caught up with the stream/ } $p->raw_lines;
	ok($behind >= 1 && $caught >= 1, "$label: the master saw the backlog and its end")
	    or diag("behind $behind, caught up $caught");
	return ($snap, $p->metric_sum($m, 'processor_fixes_evaluated_total'),
	    $p->metric_sum($m, 'processor_race_deferred_total') // -1);
}

# --- unpaced reference ----------------------------------------------------------------
my ($ref, $evals0, $def0) = backlog('unpaced', 0, 1);
cmp_ok(scalar @{$ref->{timing}}, '>', 0, 'unpaced: timing records written');
is($def0, 0, 'unpaced: nothing deferred');

# --- paced: a minute per device, longer than the drain ------------------------------------
my ($got, $evals1, $def1) = backlog('paced', 60_000);
diag("device-stage evaluations: unpaced $evals0, paced $evals1; deferred $def1");
cmp_ok($def1, '>', 0, 'paced: evaluations deferred');
cmp_ok($evals1, '<=', $evals0 / 4, 'paced: at most a quarter of the evaluations of the unpaced drain');
# The drain is shorter than the interval: a device is held from its first mark, evaluated
# when the backlog ends, and again only if the last batch (20 records), stored after that
# evaluation, holds it. Holding only from the first evaluation gave 2 per device.
cmp_ok($evals1, '<=', $N + 20, "paced: about one evaluation per device ($N devices)");
for my $k (qw(timing results penalties)) {
	is_deeply($got->{$k}, $ref->{$k}, "paced: $k identical to the unpaced run");
}

# --- not behind: records arriving as they are made are evaluated at once ---------------
RaceTest::reset($pg, $r);
my $p = start('live', 60_000);
my $half = int($nrec / 2);
my $per = 50;
for (my $i = 0; $i < $half; $i += $per) {
	my $end = $i + $per - 1 < $half - 1 ? $i + $per - 1 : $half - 1;
	$r->xadd_many('telemetry:t', [map { $_->{json} } @recs[$i .. $end]]);
	sleep 0.1;	# load shape (about 500 records/s), not synchronisation
}
# Not behind, a marked device is evaluated at once: all of them well before one interval.
ok(wait_until(sub { RaceTest::settled($pg, $half) }, timeout => 40, desc => 'live: evaluated'),
    'live: every fix evaluated in less than the 60 s interval');
my $m = $p->metrics // {};
is($p->metric_sum($m, 'processor_race_deferred_total'), 0, 'live: nothing deferred');
is($p->metric_sum($m, 'processor_backlog'), 0, 'live: not behind');
cmp_ok($p->metric_sum($m, 'processor_fixes_evaluated_total') // 0, '>', 0, 'live: evaluated');
is($p->stop, 0, 'live: clean stop');
is(scalar(grep { /workers behind the stream/ } $p->raw_lines), 0,
    'live: the master never saw a backlog');
$p->check_log;

done_testing;
