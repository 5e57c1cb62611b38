#!/usr/bin/perl
# Event configuration from the contract tables: unusable gates are named, counted and left
# out while the rest of the stage is timed; no contract tables means no evaluator at all.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use RaceTest;

Harness::need(qw(processor racesim));

# --- without the contract tables: workers only, nothing marked --------------------------
my ($r, $pg, $p) = Harness::stack(ready => 60, config => { processor => { workers => 2 } });
is(scalar(my @c = $p->children), 2, 'no contract tables: two workers and no evaluator');
ok(!$p->wait_log(qr/evaluator/, 0.5, quiet => 1), 'no evaluator started');
is($pg->psql('select count(*) from race_devices'), 0, 'race_devices is empty');
is($p->stop, 0, 'clean stop');

# --- with them: a broken gate of each kind is skipped, the others are timed -------------
my $sim = RaceTest::simulate(vehicles => 5, stages => 1, seed => 3);
my $ev = RaceTest::load_event($pg, $sim);
my $sid = $ev->{stage_ids}[0];
my %bad = (
	line_short => q{insert into gates (stage_id, kind, gate_order, geometry) values (%d, 'split', 100,
	    '{"type":"line","a":[45.8,15.9],"b":[45.8000001,15.9]}') returning id},
	line_shape => q{insert into gates (stage_id, kind, gate_order, geometry) values (%d, 'split', 101,
	    '{"type":"circle","center":[45.8,15.9],"radius_m":5}') returning id},
	polygon => q{insert into gates (stage_id, kind, gate_order, geometry, speed_limit_kmh)
	    values (%d, 'speed_zone', 102, '{"type":"polygon","ring":[[45.8,15.9],[45.81,15.9]]}', 50)
	    returning id},
	waypoint => q{insert into gates (stage_id, kind, gate_order, geometry) values (%d, 'waypoint', 103,
	    '{"type":"circle","center":[45.8,15.9],"open_radius_m":100}') returning id},
);
my %bad_id = map { $_ => $pg->psql(sprintf($bad{$_}, $sid)) } keys %bad;

$p = Harness::Processor->start(redis => $r, pg => $pg, expect_critical => 0,
    config => { processor => { workers => 2 }, domain => { refresh_ms => 500 } });
ok($p->wait_ready(60), 'processor ready with an evaluator');
is(scalar(my @c2 = $p->children), 3, 'two workers and one evaluator');
for my $k (sort keys %bad) {
	my $l = $p->wait_event(level => 'error', gate_id => $bad_id{$k}, stage_id => $sid,
	    timeout => 10);
	ok($l && $l->{reason}, "$k: the error names gate $bad_id{$k} and says why"
	    . ($l ? " ($l->{reason})" : ''));
}
ok(wait_until(sub { ($p->metric_sum($p->metrics, 'processor_config_rows_skipped') // 0) == 4 },
    timeout => 20, desc => 'skipped metric'), 'processor_config_rows_skipped is 4');
my @recs = @{$sim->{records}};
$r->xadd_many('telemetry:t', [map { $_->{json} } @recs]);
ok(wait_until(sub { RaceTest::settled($pg, scalar @recs) }, timeout => 120, desc => 'settled'),
    'every fix stored and evaluated');
my $lines = grep { $_->{kind} =~ /^(start|split|finish)$/ } @{$sim->{stages}[0]{gates}};
is($pg->psql('select count(*) from timing_records'), 5 * $lines,
    "the good gates are timed: $lines passes for each of 5 cars");
is($pg->psql('select count(*) from timing_records where gate_id in ('
    . join(',', values %bad_id) . ')'), 0, 'no record for a skipped gate');
is($pg->psql(q{select count(*) from stage_results where status = 'finished' or
    status = 'missed_waypoint'}), 5, 'every car has a result');
is($p->stop, 0, 'clean stop');
$p->check_log;
done_testing;
