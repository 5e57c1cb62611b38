#!/usr/bin/perl
# processor replay: a stage timed live, then one split gate moved 30 m in the gates table;
# --dry-run lists every pass of that gate (and the splits it feeds) and nothing else, writes
# nothing; --apply gives what a fresh live run on the new geometry gives, revisions bumped,
# source replay; a second --apply changes nothing.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use RaceTest;

my $N = $ENV{PROCESSOR_TEST_RACE_N} // 30;
Harness::need(qw(processor racesim));

my ($r, $pg) = Harness::stack(ready => 0);
my $sim = RaceTest::simulate(vehicles => $N, stages => 1, seed => 21);
my $ev = RaceTest::load_event($pg, $sim);
my @recs = @{$sim->{records}};
my $stage = $ev->{stage_ids}[0];
my $bin = Harness::builddir() . '/src/processor';

sub live_run
{
	my ($label) = @_;
	my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
	    redis => { block_ms => 200, batch_size => 200 }, domain => { refresh_ms => 1000 } });
	ok($p->wait_ready(60), "$label: processor ready") or BAIL_OUT('no start');
	$r->xadd_many('telemetry:t', [map { $_->{json} } @recs]);
	ok(wait_until(sub { RaceTest::settled($pg, scalar @recs) }, timeout => 300,
	    desc => "$label settled"), "$label: every fix stored and evaluated");
	is($p->stop, 0, "$label: clean stop");
	return $p;
}

my $p = live_run('live');
my $conf = $p->config_path;

sub replay
{
	my (@args) = @_;
	my ($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $conf, 'replay', @args], timeout => 300);
	return ($rc, $out, $err);
}

sub revisions
{
	return $pg->psql(q{select gate_id || ' ' || pass_number || ' ' || entry_id || ' ' || revision
	    || ' ' || source from timing_records order by 1});
}

# The rules replayed on unchanged gates agree with live timing.
my ($rc, $out, $err) = replay('--stage', $stage, '--dry-run');
is($rc, 0, 'dry run on the unchanged stage exits 0') or diag($err);
like($out, qr/: no changes$/m, 'replay on the fixes live timing saw: no changes');
unlike($out, qr/^[-+~] /m, 'and no difference listed');

# Move the first split gate 30 m along its normal.
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

my $before = RaceTest::snapshot($pg);
my $rev0 = revisions();
my %passes = map { $_ => 1 } split /\n/, $pg->psql("select e.car_number || ' gate $gate pass ' "
    . "|| t.pass_number from timing_records t join entries e on e.id = t.entry_id "
    . "where t.gate_id = $gate");
($rc, $out, $err) = replay('--stage', $stage, '--dry-run');
is($rc, 0, 'dry run after the move exits 0') or diag($err);
my @diff = grep { /^[-+~] / } split /\n/, $out;
my @timing = grep { / timing / } @diff;
my @other = grep { !/ timing / } @diff;
my %listed = map { /^[-+~] car (\S+) stage \d+ timing (gate \d+ pass \d+):/ ? ("$1 $2" => 1) : () }
    @timing;
diag(scalar(@timing) . " timing lines, e.g.: " . ($timing[0] // 'none'));
cmp_ok(scalar @timing, '>', 0, 'the moved gate changes timing records');
is(scalar(grep { !/ timing gate $gate pass / } @timing), 0, 'every timing line is of the moved gate');
is_deeply(\%listed, \%passes, 'every pass of the moved gate is listed, once');
like($timing[0] // '', qr/crossing_time \S+ \S+ -> /, 'a changed pass says which columns changed, old -> new');
is(scalar(grep { !/ result stage \d+: splits \[[^]]*\] -> \[[^]]*\]$/ } @other), 0,
    'the only other changes are the splits of the stage results') or diag(explain(\@other));
like($out, qr/dry run, nothing written/, 'summary: dry run');
is_deeply(RaceTest::snapshot($pg), $before, 'the dry run wrote nothing');
is(revisions(), $rev0, 'no revision bumped by the dry run');

($rc, $out, $err) = replay('--stage', $stage, '--apply');
is($rc, 0, '--apply exits 0') or diag($err);
my @applied = grep { /^[-+~] / } split /\n/, $out;
is_deeply(\@applied, \@diff, '--apply lists the same differences as the dry run');
like($out, qr/applied, source replay/, 'summary: applied');
my %old = map { my @f = split; ("$f[0] $f[1] $f[2]" => $f[3]) } split /\n/, $rev0;
my ($bumped, $kept) = (0, 0);
for (split /\n/, revisions()) {
	my ($gid, $pass, $entry, $rev, $src) = split;
	my $o = $old{"$gid $pass $entry"};
	if ($gid == $gate) {
		$bumped++ if defined $o && $rev == $o + 1 && $src eq 'replay';
	} else {
		$kept++ if defined $o && $rev == $o && $src eq 'live';
	}
}
is($bumped, scalar keys %passes, 'every record of the moved gate: revision + 1, source replay');
is($kept, scalar(split /\n/, $rev0) - scalar keys %passes, 'every other record untouched');
my $applied = RaceTest::snapshot($pg);

($rc, $out, $err) = replay('--stage', $stage, '--apply');
is($rc, 0, 'a second --apply exits 0');
like($out, qr/: no changes$/m, 'a second --apply changes nothing');
is(RaceTest::snapshot($pg)->{timing}[0], $applied->{timing}[0], 'records as they were');

my $dev = $recs[0]{device};
($rc, $out, $err) = replay('--stage', $stage, '--device', $dev, '--dry-run');
like($out, qr/: 1 of 1 devices .*no changes$/m, '--device replays that device only');
($rc, $out, $err) = replay('--stage', 99, '--dry-run');
is($rc, 1, 'unknown stage: exit 1');
like($err, qr/stage 99: no such stage being timed/, 'unknown stage: says so');
($rc, $out, $err) = replay('--stage', $stage, '--dry-run', '--apply');
is($rc, 64, '--dry-run with --apply: usage error (64)');

# A fresh live run on the new geometry gives what the replay wrote.
RaceTest::reset($pg, $r);
live_run('fresh live run on the moved gate');
my $fresh = RaceTest::snapshot($pg);
for my $k (qw(timing results penalties)) {
	is_deeply($applied->{$k}, $fresh->{$k}, "replay --apply = fresh live run: $k");
}
done_testing;
