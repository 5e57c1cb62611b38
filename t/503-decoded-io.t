#!/usr/bin/perl
# Decoded IO at insert: positions.decoded carries each device's IO bag decoded with its model
# family's dictionary (the file while io_mappings is empty, the table once it has rows), the
# default family for devices without an entry or a model; unknown ids stay raw and are
# counted per id.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use Time::HiRes qw(time);

Harness::need('processor');
my ($r, $pg) = Harness::stack(ready => 0);
my $src = Harness::srcdir();
$pg->psql(Harness::slurp("$src/sql/directus/0001_contract.sql"));
my $ev = $pg->psql(q{insert into events (code, name, status) values ('IO', 'IO test', 'running')
    returning id});
$pg->psql(q{insert into device_models (model, family) values ('FMB920', 'fmb'), ('FMC130', 'fmc'),
    ('FMC650', 'fm64'), ('FMB140', 'no-such-family')});
# dev-fmb, dev-fmc, dev-fm64 by family; dev-prefix by its model's prefix in the file (the
# table's family is unknown); dev-nomodel has an entry without a model; dev-none no entry.
$pg->psql(qq{insert into entries (event_id, car_number, device_id, device_model_id) values
    ($ev, '1', 'dev-fmb', (select id from device_models where model = 'FMB920')),
    ($ev, '2', 'dev-fmc', (select id from device_models where model = 'FMC130')),
    ($ev, '3', 'dev-fm64', (select id from device_models where model = 'FMC650')),
    ($ev, '4', 'dev-prefix', (select id from device_models where model = 'FMB140')),
    ($ev, '5', 'dev-nomodel', null)});

my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
    processor => { workers => 1 }, redis => { block_ms => 200 },
    domain => { refresh_ms => 300 } });
ok($p->wait_ready(60), 'processor ready');

my $bag = '{"239":1,"240":0,"66":12743,"68":250,"113":87,"182":9,"13":7,"9999":5,'
    . '"78":{"__bigint":"18446744073709551615"},"385":{"__buffer_b64":"AQIDBA=="}}';
my $t0 = int(time * 1000) - 600_000;
my $seq = 0;
sub rec
{
	my ($dev, $attrs) = @_;
	my $ts = $t0 + 1000 * ++$seq;
	return qq({"device_id":"$dev","timestamp":$ts,"latitude":45.8,"longitude":15.9,)
	    . qq("satellites":9,"attributes":$attrs});
}
sub stored { $pg->psql('select count(*) from positions') }

my @devs = qw(dev-fmb dev-fmc dev-fm64 dev-prefix dev-nomodel dev-none);
my @recs = map { rec($_, $bag) } @devs;
push @recs, map { rec($_, '{"239":0,"7777":[1,2]}') } qw(dev-fmb dev-fmc dev-none);
push @recs, rec('dev-fmb', '{}');
$r->xadd_many('telemetry:t', \@recs);
ok(wait_until(sub { stored() == @recs }, timeout => 60, desc => 'stored'),
    'every record stored');

sub decoded
{
	my ($dev, $cond) = @_;
	return $pg->psql("select decoded::text from positions where device_id = '$dev' and "
	    . ($cond // "attributes ? '66'") . ' order by ts desc limit 1');
}
sub jsonb { my ($j) = @_; $j =~ s/'/''/g; return $pg->psql("select '$j'::jsonb::text") }

my $common = '"ignition":true,"movement":false,'
    . '"external_voltage":{"value":12.743,"unit":"V"},"hdop":0.9,'
    . '"ibutton":18446744073709551615,"io385":"\\\\x01020304","io9999":5';
my %want = (
	fmb => "{$common,\"battery_current\":{\"value\":0.25,\"unit\":\"A\"},"
	    . '"battery_level":{"value":87,"unit":"%"},'
	    . '"fuel_rate_gps":{"value":0.07,"unit":"l/100km"}}',
	fmc => "{$common,\"battery_current\":{\"value\":0.25,\"unit\":\"A\"},"
	    . '"battery_level":{"value":87,"unit":"%"},'
	    . '"fuel_rate_gps":{"value":0.07,"unit":"l/100km"}}',
	fm64 => "{$common,\"battery_current\":{\"value\":250,\"unit\":\"mA\"},"
	    . '"service_distance":{"value":87,"unit":"km"},"module_id":7}',
);
is(decoded('dev-fmb'), jsonb($want{fmb}), 'FMB920 (fmb): keys, units, multipliers');
is(decoded('dev-fmc'), jsonb($want{fmc}), 'FMC130 (fmc): keys, units, multipliers');
is(decoded('dev-fm64'), jsonb($want{fm64}), 'FMC650 (fm64): 68 in mA, 113 service distance, 13 module id');
is(decoded('dev-prefix'), jsonb($want{fmb}), 'a family the dictionary lacks: the model prefix FMB -> fmb');
is(decoded('dev-nomodel'), jsonb($want{fmb}), 'an entry without a model: the default family (fmb)');
is(decoded('dev-none'), jsonb($want{fmb}), 'no entry: the default family (fmb)');
is(decoded('dev-fmc', "attributes ? '7777'"), jsonb('{"ignition":false,"io7777":[1,2]}'),
    'an array value of an unknown id is kept as given');
is(decoded('dev-fmb', "attributes = '{}'"), '{}', 'an empty bag decodes to {}');
is($pg->psql(q{select count(*) from positions where decoded is null}), 0, 'no row without decoded');
is($pg->psql(q{select count(*) from positions where attributes->'78' = '18446744073709551615'}),
    6, 'the raw attributes are untouched');

my $m;
ok(wait_until(sub { $m = $p->metrics; ($m->{'processor_io_unknown_total{io="7777"}'} // 0) == 3 },
    timeout => 10, desc => 'unknown metric'), 'io 7777: counted once per record carrying it (3)');
is($m->{'processor_io_unknown_total{io="9999"}'}, 6, 'io 9999: 6 records');
is($m->{'processor_io_unknown_total{io="385"}'}, 6, 'io 385: 6 records');
ok(!exists $m->{'processor_io_unknown_total{io="66"}'}, 'a mapped id is not counted');

# --- io_mappings rows override the file; a changed multiplier applies after a refresh ----
$pg->psql(Harness::slurp("$src/sql/directus/0002_io_mappings_seed.sql"));
$pg->psql(q{update io_mappings set multiplier = 0.01, unit = 'dV' where family = 'fmb' and io_id = 66});
$pg->psql(q{insert into io_mappings (family, io_id, key, type, multiplier, unit, version)
    values ('fmb', 9999, 'test_counter', 'uint', 2, '', 'test')});
sleep 2;	# several refresh_ms
my $n = stored();
$r->xadd_many('telemetry:t', [rec('dev-fmb', $bag), rec('dev-fm64', $bag)]);
ok(wait_until(sub { stored() == $n + 2 }, timeout => 30, desc => 'stored'), 'new records stored');
(my $fmb2 = $want{fmb}) =~ s/\{"value":12.743,"unit":"V"\}/{"value":127.43,"unit":"dV"}/;
$fmb2 =~ s/"io9999":5/"test_counter":10/;
is(decoded('dev-fmb'), jsonb($fmb2), 'io_mappings: the changed multiplier and the new row apply');
is(decoded('dev-fm64'), jsonb($want{fm64}), 'io_mappings: the other families as in the file');
is($pg->psql(q{select count(*) from positions where decoded->'external_voltage'->>'unit' = 'dV'}),
    1, 'rows stored before the change keep their decoded value');

is($p->stop, 0, 'clean stop');
$p->check_log;

# --- [domain] default_family ---------------------------------------------------------
$p = Harness::Processor->start(redis => $r, pg => $pg, config => {
    processor => { workers => 1 }, redis => { block_ms => 200 },
    domain => { refresh_ms => 300, default_family => 'fm64' } });
ok($p->wait_ready(60), 'processor ready with default_family = fm64');
$n = stored();
$r->xadd_many('telemetry:t', [rec('dev-none', $bag), rec('dev-fmc', $bag)]);
ok(wait_until(sub { stored() == $n + 2 }, timeout => 30, desc => 'stored'), 'new records stored');
is(decoded('dev-none'), jsonb($want{fm64}), 'no entry: the configured default family');
is(decoded('dev-fmc'), jsonb($want{fmc}), 'a device with a model keeps its family');
is($p->stop, 0, 'clean stop');
$p->check_log;
done_testing();
