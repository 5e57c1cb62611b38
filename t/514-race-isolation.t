#!/usr/bin/perl
# One device whose evaluation cannot be written does not hold up the others: the evaluator
# evaluates a round of devices in one transaction, and when that fails, one by one, keeping
# the failing device out of the next rounds.  A trigger refuses one entry's stage result;
# every other device is evaluated and its mark dropped, the bad one keeps its mark and is
# logged with its id; once the trigger is gone it is evaluated too, and the rows are those
# of a full evaluation (processor replay --dry-run finds nothing to change).
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
my $sim = RaceTest::simulate(vehicles => $N, stages => 1, seed => 514);
my $ev = RaceTest::load_event($pg, $sim);
my @recs = @{$sim->{records}};
my $stage = $ev->{stage_ids}[0];
my $bin = Harness::builddir() . '/src/processor';
my @devs = sort keys %{{ map { $_->{device} => 1 } @recs }};
my $bad = $devs[0];
my $bad_entry = $pg->psql("select id from entries where device_id = '$bad'");

$pg->psql(qq{create function test_refuse() returns trigger language plpgsql as \$\$
begin
	if new.entry_id = $bad_entry then
		raise exception 'test: entry % refused', new.entry_id;
	end if;
	return new;
end \$\$});
$pg->psql('create trigger test_refuse before insert or update on stage_results '
    . 'for each row execute function test_refuse()');

my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
    processor => { workers => 2 }, redis => { block_ms => 100, batch_size => 200 },
    domain => { refresh_ms => 1000 } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
$r->xadd_many('telemetry:t', [map { $_->{json} } @recs]);

ok(wait_until(sub {
	$pg->psql('select (select count(*) from positions) || \',\' || '
	    . "(select count(*) from race_marks) || ',' || "
	    . "coalesce((select string_agg(device_id, ',') from race_dirty), '')")
	    eq scalar(@recs) . ",0,$bad" }, timeout => 120, desc => 'only the refused device left'),
    'every fix stored; every device evaluated but the refused one, whose mark stays');
is($pg->psql("select count(*) from stage_results where stage_id = $stage and entry_id <> "
    . $bad_entry), $N - 1, 'a stage result for every other entry');
is($pg->psql("select count(*) from stage_results where entry_id = $bad_entry"), 0,
    'none for the refused entry');
ok($p->wait_log(qr/evaluating device \Q$bad\E failed.*entry \d+ refused/, 30),
    'the refused device is logged with its id and the reason');
# Kept out of the rounds after it failed: the rounds around it do not fail with it.
my $rounds = grep { /a round of \d+ devices failed/ } $p->raw_lines;
cmp_ok($rounds, '>=', 1, 'the round with the refused device failed and was redone one by one');
cmp_ok($rounds, '<', 5, 'later rounds, without it, did not fail');

$pg->psql('drop trigger test_refuse on stage_results');
ok(wait_until(sub { RaceTest::settled($pg, scalar @recs) }, timeout => 120,
    desc => 'settled'), 'once the trigger is gone the device is evaluated and its mark dropped');
is($pg->psql("select count(*) from stage_results where stage_id = $stage"), $N,
    'a stage result for every entry');
is($p->stop, 0, 'clean stop');

my ($rc, $out, $err) = Harness::run_cmd([$bin, '-c', $p->config_path, 'replay', '--stage',
    $stage, '--dry-run'], timeout => 300);
is($rc, 0, 'replay --dry-run exits 0') or diag($err);
like($out, qr/: no changes$/m, 'the rows are those of a full evaluation');
done_testing;
