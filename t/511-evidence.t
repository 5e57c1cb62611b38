#!/usr/bin/perl
# processor evidence: for a simulated crossing timed live, the printed fixes and time match
# the stored record and positions, and the SVG drawing is well-formed XML holding the gate,
# the fixes, the path and the crossing.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use RaceTest;

my $N = $ENV{PROCESSOR_TEST_RACE_N} // 10;
Harness::need(qw(processor racesim));
plan skip_all => 'XML::Parser not installed (libxml-parser-perl)'
    unless eval { require XML::Parser; 1 };

my ($r, $pg) = Harness::stack(ready => 0);
my $sim = RaceTest::simulate(vehicles => $N, stages => 1, seed => 31);
my $ev = RaceTest::load_event($pg, $sim);
my @recs = @{$sim->{records}};
my $stage = $ev->{stage_ids}[0];
my $bin = Harness::builddir() . '/src/processor';

my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
    redis => { block_ms => 200, batch_size => 200 }, domain => { refresh_ms => 1000 } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
$r->xadd_many('telemetry:t', [map { $_->{json} } @recs]);
ok(wait_until(sub { RaceTest::settled($pg, scalar @recs) }, timeout => 300, desc => 'settled'),
    'every fix stored and evaluated');
is($p->stop, 0, 'clean stop');

# A split crossing of the first entry.
my ($gi) = grep { $sim->{stages}[0]{gates}[$_]{kind} eq 'split' } 0 .. $#{$sim->{stages}[0]{gates}};
my $gate = $ev->{gate_ids}{'1:' . $sim->{stages}[0]{gates}[$gi]{gate_order}};
my $row = $pg->psql(qq{select t.entry_id || '|' || e.device_id || '|' || t.pass_number || '|'
    || to_char(t.crossing_time at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '|'
    || to_char(t.fix_before at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '|'
    || to_char(t.fix_after at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '|' || t.revision
    from timing_records t join entries e on e.id = t.entry_id
    where t.gate_id = $gate order by e.id limit 1});
my ($entry, $dev, $pass, $time, $fb, $fa, $rev) = split /\|/, $row;
ok(defined $rev, "a stored crossing of split gate $gate (entry $entry, pass $pass)");

my $svg = Harness::tmproot() . "/evidence-$$.svg";
my ($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $p->config_path, 'evidence', '--entry',
    $entry, '--stage', $stage, '--gate', $gate, '--pass', $pass, '--svg', $svg], timeout => 60);
is($rc, 0, 'evidence exits 0') or diag($err);
diag($out);
like($out, qr/^crossing:  \Q$time\E UTC \+\/- [\d.]+ ms \(95 %\)$/m, 'the time printed is the stored one');
like($out, qr/^method:    (two-point|constant acceleration|fitted path)/m, 'the method is named');
like($out, qr/^stored:    \Q$time\E UTC \+\/- [\d.]+ ms, revision \Q$rev\E \(source live, updated /m,
    'the stored record with its revision');
like($out, qr/^check:     the rules on the stored fixes give the stored time$/m,
    'the rules on the stored fixes agree with the record');
like($out, qr/^history:   \Q$rev\E revisions?$/m, "the history lists $rev revision(s)");
my @hist = $out =~ /^  r(\d+)\s+(\S+ \S+) UTC/mg;
is_deeply([@hist[-2, -1]], [$rev, $time], 'the last revision of the history is the stored record');
is(join(',', grep { /^\d+$/ && $_ < 1000 } @hist[map { 2 * $_ } 0 .. $#hist / 2]),
    join(',', 1 .. $rev), 'revisions 1 .. current, in order');
my @fix = grep { /^[* ] \d{4}-/ } split /\n/, $out;
my @bracket = map { /^\* (\S+ \S+)/ ? $1 : () } @fix;
is_deeply(\@bracket, [$fb, $fa], 'the two marked fixes are the stored fix_before and fix_after');
cmp_ok(scalar @fix, '>=', 4, 'fixes around the crossing are shown');
my $ok = 0;
for my $l (@fix) {
	my ($d, $t, $lat, $lon, $kmh) = $l =~ /^[* ] (\S+) (\S+)\s+(\S+)\s+(\S+)\s+(\S+)/;
	my $db = $pg->psql("select round(latitude::numeric, 7) || ' ' || round(longitude::numeric, 7)"
	    . " || ' ' || coalesce(round(speed::numeric)::text, '-') from positions where device_id = '$dev' "
	    . "and ts = '$d $t+00'");
	$ok++ if $db eq sprintf('%.7f %.7f %s', $lat, $lon, $kmh);
}
is($ok, scalar @fix, 'each fix printed is the stored position (time, latitude, longitude, speed)');

# The drawing.
my (%ids, $circles, $root);
my $parser = XML::Parser->new(Handlers => { Start => sub {
	my (undef, $el, %a) = @_;
	$root //= $el;
	$ids{$a{id}} = $el if defined $a{id};
	$circles++ if $el eq 'circle' && ($a{class} // '') =~ /^fix/;
} });
ok(eval { $parser->parsefile($svg); 1 }, 'the SVG is well-formed XML') or diag($@);
is($root, 'svg', 'its root is svg');
is($ids{gate}, 'line', 'it draws the gate line');
is($ids{crossing}, 'circle', 'it draws the crossing');
is($ids{bound}, 'line', 'it draws the 95 % bound');
is($ids{path}, 'polyline', 'it draws the path between the bracketing fixes');
is($circles, scalar @fix, 'it draws every fix printed');

# Errors.
($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $p->config_path, 'evidence', '--entry', $entry,
    '--stage', 99, '--gate', $gate]);
is($rc, 1, 'unknown stage: exit 1');
like($err, qr/stage 99: no such stage being timed/, 'unknown stage: says so');
($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $p->config_path, 'evidence', '--entry', $entry,
    '--stage', $stage, '--gate', $gate, '--pass', 99]);
is($rc, 1, 'no such pass: exit 1');
like($err, qr/has no pass 99 of gate $gate/, 'no such pass: says so');
($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $p->config_path, 'evidence', '--stage', $stage]);
is($rc, 64, 'missing --entry and --gate: usage, exit 64');
done_testing;
