#!/usr/bin/perl
# Incremental evaluation is exact: the evaluator keeps the fixes it read per (device, stage)
# and reads only the ranges of new work marks (race_fixcache.h).  A stage is fed in many
# small pieces (so most evaluations are incremental), with records up to 120 s late, 10 % of
# the records twice and 10 % of the devices uploading a 5-minute gap at the end; then
# `processor replay --dry-run`, which evaluates every device from all its stored fixes,
# must find no difference in any timing record, penalty or stage result.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use RaceTest;
use List::Util qw(shuffle);

my $N = $ENV{PROCESSOR_TEST_RACE_N} // 30;
Harness::need(qw(processor racesim));
srand(513);

my ($r, $pg) = Harness::stack(ready => 0);
my $sim = RaceTest::simulate(vehicles => $N, stages => 1, seed => 513);
my $ev = RaceTest::load_event($pg, $sim);
my @recs = @{$sim->{records}};
my $stage = $ev->{stage_ids}[0];
my $bin = Harness::builddir() . '/src/processor';

# Arrival order: up to 120 s late; a gap of 10 % of the devices held back to the end.
my @devs = sort keys %{{ map { $_->{device} => 1 } @recs }};
my %gap = map { $_ => 1 } (shuffle @devs)[0 .. int(@devs / 10)];
my %first;
$first{$_->{device}} //= $_->{ts} for @recs;
my (@now, @later);
for (sort { $a->[0] <=> $b->[0] } map { [$_->{ts} + int(rand(120_000)), $_] } @recs) {
	my $x = $_->[1];
	my $off = $x->{ts} - $first{$x->{device}};
	if ($gap{$x->{device}} && $off >= 60_000 && $off < 360_000) {
		push @later, $x;
	} else {
		push @now, $x;
	}
}
my @order = (@now, @later);
cmp_ok(scalar @later, '>', 0, 'some devices have a gap uploaded late');

my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
    processor => { workers => 2 }, redis => { block_ms => 100, batch_size => 50 },
    domain => { refresh_ms => 1000 } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');

# Twelve pieces, each stored and evaluated before the next: each device is evaluated many
# times, from the fixes it had plus the new ones.
my $pieces = 12;
my $per = int(@order / $pieces) + 1;
my %stored;
for (my $i = 0; $i < @order; $i += $per) {
	my @piece = @order[$i .. ($i + $per - 1 < $#order ? $i + $per - 1 : $#order)];
	my @dup = grep { rand() < 0.1 } @piece;
	$r->xadd_many('telemetry:t', [map { $_->{json} } shuffle(@piece, @dup)]);
	$stored{"$_->{device} $_->{ts}"} = 1 for @piece;
	my $want = scalar keys %stored;
	ok(wait_until(sub { RaceTest::settled($pg, $want) }, timeout => 120,
	    desc => "piece at $i settled"), "piece from record $i: stored and evaluated");
}
my $cur = $pg->psql(q{select count(*) || ' ' || min(evaluations) || ' ' || sum(late)
    from race_cursor where stage_id = } . $stage);
my ($ndev, $mineval, $late) = split / /, $cur;
is($ndev, scalar @devs, 'every device has a cursor on the stage');
cmp_ok($mineval, '>=', 4, 'every device was evaluated at least 4 times (incrementally after the first)');
cmp_ok($late, '>', 0, 'late fixes re-evaluated windows');
cmp_ok($pg->psql("select count(*) from timing_records where stage_id = $stage"), '>', 0,
    'timing records written');
is($p->stop, 0, 'clean stop');
is(scalar(grep { $_ =~ /failed, evaluating them one by one|evaluating device .* failed/ }
    $p->raw_lines), 0, 'every round evaluated in one transaction (no fallback, no error)');

my ($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $p->config_path, 'replay', '--stage',
    $stage, '--dry-run'], timeout => 300);
is($rc, 0, 'replay --dry-run exits 0') or diag($err);
like($out, qr/: no changes$/m, 'a full evaluation of every device gives the rows written incrementally');
my @diff = grep { /^[-+~] / } split /\n/, $out;
is_deeply(\@diff, [], 'no timing record, penalty or result differs') or diag(join("\n", @diff[0 .. ($#diff < 20 ? $#diff : 20)]));
done_testing;
