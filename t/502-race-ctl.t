#!/usr/bin/perl
# processorctl stage (live standings) and the racing side of processorctl device.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use RaceTest;
use CtlTest;

Harness::need(qw(processor racesim));

my ($r, $pg) = Harness::stack(ready => 0);

# Without the contract tables: a clear error.
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { processor => { workers => 1 } });
ok($p->wait_ready(60), 'processor ready (no contract tables)');
my ($rc, $out, $err) = ctl($p, 'stage', '1');
isnt($rc, 0, 'stage without the contract tables fails');
like($err, qr/no racing contract tables/, '... and says why') or diag($out, $err);
($rc, $out, $err) = ctl($p, 'stage', 'x');
isnt($rc, 0, 'a stage id that is not a number is refused');
like($err, qr/not a stage id: 'x'/, '... by name');
is($p->stop, 0, 'clean stop');

my $sim = RaceTest::simulate(vehicles => 6, stages => 1, seed => 5);
my $ev = RaceTest::load_event($pg, $sim);
my $sid = $ev->{stage_ids}[0];
# The off-route waypoint every simulated car misses would leave nobody ranked.
$pg->psql(q{delete from gates where kind = 'waypoint' and gate_order =
    (select max(gate_order) from gates where kind = 'waypoint')});
$p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { processor => { workers => 2 }, domain => { refresh_ms => 500 } });
ok($p->wait_ready(60), 'processor ready with an evaluator');
my @recs = @{$sim->{records}};
$r->xadd_many('telemetry:t', [map { $_->{json} } @recs]);
ok(wait_until(sub { RaceTest::settled($pg, scalar @recs) }, timeout => 120, desc => 'settled'),
    'every fix stored and evaluated');

my $j;
($rc, $j) = ctl_json($p, 'stage', $sid);
is($rc, 0, 'stage --json exits 0');
my $want = $pg->psql(qq{select string_agg(e.car_number || ':' || r.status || ':'
    || coalesce(r.rank::text, '-') || ':' || coalesce(r.elapsed_ms::text, '-'), ' '
    order by r.rank nulls last, r.elapsed_ms + round(r.penalties_s * 1000) nulls last,
    e.car_number) from stage_results r join entries e on e.id = r.entry_id
    where r.stage_id = $sid});
my $got = join ' ', map { join ':', $_->{car}, $_->{status}, $_->{rank} // '-',
    $_->{elapsed_ms} // '-' } @{$j->{standings} // []};
is($got, $want, 'standings: car, status, rank and elapsed as stage_results holds them');
is(scalar @{$j->{standings}}, 6, 'one line per car');
my @fin = grep { $_->{status} eq 'finished' } @{$j->{standings}};
cmp_ok(scalar @fin, '>=', 1, 'some runs finished');
is($fin[0]{gap_ms}, 0, 'the leader has no gap');
ok(!grep({ $_->{gap_ms} < 0 } @fin), 'no negative gap');
is($j->{standings}[0]{last_gate_kind}, 'finish', 'the leader last crossed the finish');

($rc, $out) = ctl($p, 'stage', $sid);
is($rc, 0, 'stage (table) exits 0');
like($out, qr/^stage $sid \(SS1\), running$/m, 'the heading names the stage');
like($out, qr/^RANK\s+CAR\s+STATUS\s+ELAPSED\s+PENALTY\s+GAP\s+LAST GATE$/m, 'the table head');
like($out, qr/^1\s+\S+\s+finished\s+\d+:\d\d\.\d{3}\s+[\d.]+\s+\+0:00\.000\s+finish 6$/m,
    'the leader line') or diag($out);

($rc, $out, $err) = ctl($p, 'stage', '99999');
isnt($rc, 0, 'an unknown stage fails');
like($err, qr/stage 99999: no such stage/, '... by id');

my $dev = $recs[0]{device};
my ($car, $rank) = split /\|/, $pg->psql(qq{select e.car_number, coalesce(r.rank::text, '-')
    from entries e join stage_results r on r.entry_id = e.id where e.device_id = '$dev'});
($rc, $j) = ctl_json($p, 'device', $dev);
is($rc, 0, 'device --json exits 0');
is($j->{domain}[0]{car}, $car, 'the device shows its entry');
is($j->{domain}[0]{stages}[0]{stage}, $sid, '... the stage');
is($j->{domain}[0]{stages}[0]{rank} // '-', $rank, '... its rank');
cmp_ok($j->{domain}[0]{stages}[0]{evaluations}, '>=', 1, '... and the evaluations');
($rc, $out) = ctl($p, 'device', $dev);
like($out, qr/^racing: entry \d+, car \Q$car\E, event \d+$/m, 'device (text) shows the entry');
($rc, $j) = ctl_json($p, 'device', 'NOSUCHDEVICE');
is_deeply($j->{domain}, [], 'a device without an entry has no racing side');

is($p->stop, 0, 'clean stop');
$p->check_log;
done_testing;
