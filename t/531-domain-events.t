#!/usr/bin/perl
# Domain events (processor-domain(7), "Domain events"): a simulated stage timed live while
# a worker is killed; every committed timing record has its timing_recorded event, every
# event key is in the stream once; a replay --apply with no change emits nothing; a replay
# that moves a split gate emits timing_revised once per changed record, nothing else twice;
# a pass removed (the gate moved away) and found again gets new revisions and new event keys.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use RaceTest;

my $N = $ENV{PROCESSOR_TEST_RACE_N} // 20;
Harness::need(qw(processor racesim));

my ($r, $pg) = Harness::stack(ready => 0);
my $sim = RaceTest::simulate(vehicles => $N, stages => 1, seed => 31);
my $ev = RaceTest::load_event($pg, $sim);
my @recs = @{$sim->{records}};
my $stage = $ev->{stage_ids}[0];
my $bin = Harness::builddir() . '/src/processor';
my $STREAM = 'events:domain';

my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
    processor => { workers => 2 },
    redis => { block_ms => 200, batch_size => 100 }, domain => { refresh_ms => 1000 } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
$pg->slow_writes(0.01);		# slow batches, so a killed worker dies holding entries

my $half = int(@recs / 2);
$r->xadd_many('telemetry:t', [map { $_->{json} } @recs[0 .. $half - 1]]);
ok(wait_until(sub { $pg->psql('select count(*) from positions') > $half / 4 }, timeout => 120,
    desc => 'flowing'), 'fixes flowing');
my @kids = sort { $a <=> $b } $p->children;
kill 'KILL', $kids[0];
ok(wait_until(sub { my @c = $p->children; @c == @kids && !grep { $_ == $kids[0] } @c },
    timeout => 30, desc => 'respawned'), "worker $kids[0] killed and respawned");
$r->xadd_many('telemetry:t', [map { $_->{json} } @recs[$half .. $#recs]]);
ok(wait_until(sub { RaceTest::settled($pg, scalar @recs) }, timeout => 300, desc => 'settled'),
    'every fix stored and evaluated');

sub delivered
{
	return wait_until(sub { $pg->psql('select count(*) from race_outbox') == 0 },
	    timeout => 30, desc => 'outbox empty');
}

# The stream as [ { field => value } ] in order.
sub events
{
	my $x = $r->cmd('XRANGE', $STREAM, '-', '+');
	return [map { my %f = @{$_->[1]}; \%f } @$x];
}

sub keys_once
{
	my ($evs, $label) = @_;
	my %n;
	$n{$_->{key}}++ for @$evs;
	my @dup = grep { $n{$_} > 1 } sort keys %n;
	is(scalar @dup, 0, "$label: every dedupe key once") or diag(explain([@dup[0 .. 4]]));
}

ok(delivered(), 'the outbox is delivered');
my $evs = events();
cmp_ok(scalar @$evs, '>', 0, 'events in ' . $STREAM);
diag(scalar(@$evs) . ' events; types: ' . join(', ', map { my $t = $_;
    "$t " . scalar(grep { $_->{type} eq $t } @$evs) } sort keys %{{ map { $_->{type} => 1 } @$evs }}));
keys_once($evs, 'live, worker killed');
is(scalar(grep { ($_->{schema} // '') ne '1' } @$evs), 0, 'every event: schema 1');
is(scalar(grep { !defined $_->{entry} || !defined $_->{stage} || !defined $_->{type}
    || !defined $_->{at} } @$evs), 0, 'every event: type, entry, stage, at');
my %bykey = map { $_->{key} => $_ } @$evs;
my @rows = split /\n/, $pg->psql(q{select entry_id || ':' || stage_id || ':' || gate_id || ':'
    || pass_number || ' ' || revision from timing_records});
cmp_ok(scalar @rows, '>', 0, scalar(@rows) . ' timing records');
my ($rec, $rev) = (0, 0);
for (@rows) {
	my ($k, $n) = split;
	$rec++ if ($bykey{"timing:$k:r1"}{type} // '') eq 'timing_recorded';
	$rev++ if $n == 1 || ($bykey{"timing:$k:r$n"}{type} // '') eq 'timing_revised';
}
is($rec, scalar @rows, 'every committed timing record has its timing_recorded event');
is($rev, scalar @rows, 'and its latest revision its timing_revised event');
diag('results: ' . $pg->psql(q{select string_agg(status || ' ' || n, ', ') from (select status, count(*) n from stage_results group by 1) x}));
my $fin = $pg->psql(q{select count(*) from stage_results where status = 'finished'});
is(scalar(grep { $_->{type} eq 'stage_finished' } @$evs), $fin,
    "one stage_finished per finished result ($fin)");
for my $type (sort keys %{{ map { $_->{type} => 1 } @$evs }}) {
	my ($t) = grep { $_->{type} eq $type } @$evs;
	diag('e.g. ' . join(' ', map { "$_=$t->{$_}" } sort keys %$t));
}
is($p->stop, 0, 'clean stop');

# Replays, with a live evaluator running to deliver what they queue.
$p = Harness::Processor->start(redis => $r, pg => $pg, config => {
    redis => { block_ms => 200 }, domain => { refresh_ms => 1000 } });
ok($p->wait_ready(60), 'processor restarted');
my $conf = $p->config_path;
sub replay
{
	my ($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $conf, 'replay', @_], timeout => 300);
	is($rc, 0, "replay @_ exits 0") or diag($err);
	return $out;
}
my $n0 = scalar @$evs;
my $out = replay('--stage', $stage, '--apply');
like($out, qr/: no changes$/m, 'replay --apply on the same fixes: no changes');
sleep 3;
ok(delivered(), 'outbox empty');
is(scalar @{events()}, $n0, 'a replay with no change emits nothing');

# Move the first split gate 30 m along its normal (as t/510-replay.t).
my ($gi) = grep { $sim->{stages}[0]{gates}[$_]{kind} eq 'split' } 0 .. $#{$sim->{stages}[0]{gates}};
my $g = $sim->{stages}[0]{gates}[$gi];
my $gate = $ev->{gate_ids}{"1:$g->{gate_order}"};
my ($alat, $alon) = @{$g->{geometry}{a}};
my ($blat, $blon) = @{$g->{geometry}{b}};
my $kx = 111320 * cos(($alat + $blat) / 2 * 3.14159265358979 / 180);
my $ky = 110574;
my ($ex, $ny) = (($blon - $alon) * $kx, ($blat - $alat) * $ky);
my $len = sqrt($ex * $ex + $ny * $ny);
my ($dlat, $dlon) = ($ex / $len * 30 / $ky, -$ny / $len * 30 / $kx);
$pg->psql(sprintf(q{update gates set geometry = jsonb_set(jsonb_set(geometry, '{a}',
    '[%.9f, %.9f]'), '{b}', '[%.9f, %.9f]') where id = %d}, $alat + $dlat, $alon + $dlon,
    $blat + $dlat, $blon + $dlon, $gate));
my $passes = $pg->psql("select count(*) from timing_records where gate_id = $gate");
$out = replay('--stage', $stage, '--apply');
ok(wait_until(sub { scalar @{events()} > $n0 }, timeout => 30, desc => 'new events'),
    'the changing replay emits');
sleep 2;
ok(delivered(), 'outbox empty');
my $all = events();
my @new = @$all[$n0 .. $#$all];
is(scalar(grep { $_->{type} eq 'timing_revised' && $_->{gate} == $gate } @new), $passes,
    "timing_revised once per record of the moved gate ($passes)");
is(scalar(grep { $_->{type} =~ /^timing_/ && $_->{gate} != $gate } @new), 0,
    'no timing event for the other gates');
my ($rv) = grep { $_->{type} eq 'timing_revised' } @new;
like($rv->{data} // '', qr/"source": "replay"/, 'the revision says source replay');
diag('e.g. ' . join(' ', map { "$_=$rv->{$_}" } sort keys %$rv)) if $rv;
keys_once($all, 'after the replays');
$out = replay('--stage', $stage, '--apply');
sleep 3;
is(scalar @{events()}, scalar @$all, 'a second --apply emits nothing');

# Move that gate 50 km away (its passes are removed), then back (they are found again): the
# records come back with revisions after the ones they had, so their events have new keys
# (a key reused after delivery would be dropped by a consumer that deduplicates on it).
sub move_gate
{
	my ($off) = @_;
	$pg->psql(sprintf(q{update gates set geometry = jsonb_set(jsonb_set(geometry, '{a}',
	    '[%.9f, %.9f]'), '{b}', '[%.9f, %.9f]') where id = %d}, $alat + $dlat + $off,
	    $alon + $dlon, $blat + $dlat + $off, $blon + $dlon, $gate));
	replay('--stage', $stage, '--apply');
}
my $revs = "select entry_id || ':' || pass_number || ' ' || revision from timing_records "
    . "where gate_id = $gate";
my %before = map { split / / } split /\n/, $pg->psql($revs);
move_gate(0.45);
is($pg->psql("select count(*) from timing_records where gate_id = $gate"), 0,
    'the gate moved away: its passes are removed');
move_gate(0);
my %after = map { split / / } split /\n/, $pg->psql($revs);
is_deeply([sort keys %after], [sort keys %before], 'moved back: the same passes again');
is(scalar(grep { $after{$_} == $before{$_} + 1 } keys %after), scalar keys %before,
    'each one revision after the one it had before its removal');
ok(wait_until(sub { scalar @{events()} >= @$all + keys %before }, timeout => 30,
    desc => 'events of the recreated records'), 'the recreated records emit');
ok(delivered(), 'outbox empty');
my $last = events();
my @back = grep { $_->{type} =~ /^timing_/ } @$last[scalar @$all .. $#$last];
is_deeply([sort map { $_->{key} } @back], [sort split /\n/, $pg->psql("select 'timing:' || "
    . "entry_id || ':' || stage_id || ':' || gate_id || ':' || pass_number || ':r' || revision "
    . "from timing_records where gate_id = $gate")],
    'their events carry the new revisions, one per record');
keys_once($last, 'after the gate came back');
is($p->stop, 0, 'clean stop');
done_testing;
