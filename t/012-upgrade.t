#!/usr/bin/perl
# Upgrading a running race from the last release's schema: a database migrated by the released
# migrations (t/migrations.shipped), holding fixes the released workers stored and marked
# (processor_race_mark_keys of 0006 into race_dirty), is taken over by this build: it applies
# only the newer migrations, evaluates the pending marks, stores the rest of the stream, and
# ends with the same timing records, stage results and penalties as a database that ran this
# build from the start.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Temp qw(tempdir);
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use RaceTest;

Harness::need(qw(processor racesim));
my $src = Harness::srcdir();

my %shipped = %{Harness::shipped_migrations()};
my @newer = grep { !exists $shipped{$_} } Harness::migration_files();
my $released = tempdir('processor-released-sql.XXXXXX', TMPDIR => 1, CLEANUP => 1);
symlink("$src/sql/$_", "$released/$_") or die "symlink $_: $!" for sort keys %shipped;

my ($r, $pg) = Harness::stack(ready => 0);
my $sim = RaceTest::simulate(vehicles => 6, stages => 1, seed => 12);
my @recs = @{$sim->{records}};
my $half = int(@recs / 2);
my %cfg = (redis => { block_ms => 200 }, domain => { refresh_ms => 1000 });

sub migrations
{
	my ($db) = @_;
	return $db->psql(q{select string_agg(name || ' ' || checksum, ',' order by version)
	    from processor_schema_migrations});
}

sub settle
{
	my ($db, $n, $label) = @_;
	ok(wait_until(sub { RaceTest::settled($db, $n) }, timeout => 180, desc => $label),
	    "$label: every fix stored and evaluated");
}

# --- reference: this build from the start -----------------------------------------------
RaceTest::load_event($pg, $sim);
my $p = Harness::Processor->start(redis => $r, pg => $pg, config => \%cfg);
ok($p->wait_ready(60), 'reference: ready') or BAIL_OUT('no start');
$r->xadd_many('telemetry:t', [map { $_->{json} } @recs]);
settle($pg, scalar @recs, 'reference');
my $ref = RaceTest::snapshot($pg);
ok(@{$ref->{timing}} > 6, scalar(@{$ref->{timing}}) . ' timing records to compare');
is($p->stop, 0, 'reference: clean stop');
$r->cmd('DEL', 'telemetry:t', 'telemetry:t:dlq', 'events:domain');

# --- the released schema, as its workers left it -----------------------------------------
my $old = Harness::Pg->start;
RaceTest::load_event($old, $sim);
$p = Harness::Processor->start(redis => $r, pg => $old, env => { PROCESSOR_SQL_DIR => $released },
    config => { %cfg, domain => { evaluators => 0 } });
ok($p->wait_ready(60), 'released migrations: ready') or BAIL_OUT('no start');
is(migrations($old), join(',', map { "$_ $shipped{$_}" } sort keys %shipped),
    'the released migrations applied, with their released checksums');
$r->xadd_many('telemetry:t', [map { $_->{json} } @recs[0 .. $half - 1]]);
ok(wait_until(sub { $old->psql('select count(*) from positions') == $half
    && $r->cmd('XPENDING', 'telemetry:t', 'processor')->[0] == 0 }, timeout => 60,
    desc => 'first half stored'), "first half stored ($half fixes)");
is($p->stop, 0, 'released schema: clean stop');
# What the released evaluator published and the released workers marked (0006).
$old->psql(q{insert into race_devices select device_id from entries});
$old->psql(q{select processor_race_mark_keys(array_agg(device_id), array_agg(lo), array_agg(hi))
    from (select device_id, (extract(epoch from min(ts)) * 1000000)::int8 as lo,
    (extract(epoch from max(ts)) * 1000000)::int8 as hi from positions group by device_id) s});
is($old->psql('select count(*) from race_dirty'), 6, 'six devices marked, not evaluated yet');

# --- this build takes over ----------------------------------------------------------------
$p = Harness::Processor->start(redis => $r, pg => $old, config => \%cfg);
ok($p->wait_ready(60), 'this build on the released schema: ready')
    or diag(Harness::slurp($p->{log_path}));
is(migrations($old), join(',', (map { "$_ $shipped{$_}" } sort keys %shipped),
    map { "$_ " . Harness::migration_checksum("$src/sql/$_") } @newer),
    'only the newer migrations applied: ' . join(' ', @newer));
$r->xadd_many('telemetry:t', [map { $_->{json} } @recs[$half .. $#recs]]);
settle($old, scalar @recs, 'upgraded');
my $got = RaceTest::snapshot($old);
is_deeply($got->{$_}, $ref->{$_}, "upgraded: $_ as the reference's") for qw(timing results penalties);
is($p->stop, 0, 'upgraded: clean stop');
$p->check_log;
done_testing;

