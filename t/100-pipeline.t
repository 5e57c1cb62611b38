#!/usr/bin/perl
# Issue 2 data path end to end: one record exact, volume, duplicates, poison, PostgreSQL restart, kill -9.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

my ($r, $pg) = Harness::stack(ready => 0);
my $STREAM = 'telemetry:t';

sub rows { $pg->psql('select count(*) from positions') }
sub pending { $r->pending($STREAM, 'processor') }
sub dlq_len { $r->xlen("$STREAM:dlq") }

sub start_processor
{
	my (%cfg) = @_;
	my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
		redis => { consumer_prefix => 'test', batch_size => 200, block_ms => 200,
		    %{$cfg{redis} // {}} },
		processor => { workers => 1, %{$cfg{processor} // {}} },
	});
	ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('processor did not start');
	return $p;
}

sub totals { $_[0]->worker_totals }

# --- 1. one record, every column, sentinels exact -------------------------------------
my $p = start_processor();
my $all_bytes = join '', map { chr } 0 .. 255;
my $b64 = do { require MIME::Base64; MIME::Base64::encode_base64($all_bytes, '') };
my $hex = unpack 'H*', $all_bytes;
my $payload = '{"device_id":"356307042441013","timestamp":"2026-04-30T12:00:00.123Z",'
    . '"latitude":45.815,"longitude":15.9819,"altitude":122.5,"angle":270,"satellites":11,'
    . '"speed":87,"priority":1,"event_io_id":239,"attributes":{"239":1,"16":123456,'
    . '"78":{"__bigint":"18446744073709551615"},"385":{"__buffer_b64":"' . $b64 . '"},'
    . '"nested":[{"__bigint":"-12345678901234567890123"}]}}';
$r->cmd('XADD', $STREAM, '*', 'payload', $payload);
ok(wait_until(sub { rows() == 1 }, timeout => 30, desc => 'one row'), 'one record, one row');
is($pg->psql(q{select device_id || '|' || to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS')
    || '|' || latitude || '|' || longitude || '|' || altitude || '|' || angle || '|' || satellites
    || '|' || speed || '|' || priority || '|' || event_io_id from positions}),
    '356307042441013|2026-04-30T12:00:00.123|45.815|15.9819|122.5|270|11|87|1|239',
    'every column as published');
is($pg->psql(q{select attributes->>'78' from positions}), '18446744073709551615',
    '20-digit bigint exact');
is($pg->psql(q{select jsonb_typeof(attributes->'78') from positions}), 'number',
    'bigint stored as a JSON number');
is($pg->psql(q{select attributes->'nested'->>0 from positions}), '-12345678901234567890123',
    'nested negative bigint exact');
is($pg->psql(q{select encode(decode(substr(attributes->>'385', 3), 'hex'), 'hex') from positions}),
    $hex, 'buffer with all 256 byte values byte-identical');
is($pg->psql(q{select attributes->>'16' from positions}), '123456', 'plain number unchanged');
ok(wait_until(sub { pending() == 0 }, timeout => 10, desc => 'acked'), 'entry acknowledged');

# --- 2. 10 000 records over 100 devices -------------------------------------------------
my @all;	# every gen run, for the content comparisons
my $g = Harness::gen(redis => $r, n => 10_000, devices => 100, seed => 1);
push @all, $g;
is($g->{valid}, 10_000, 'generator published 10 000 valid records');
ok(wait_until(sub { rows() == 10_001 }, timeout => 120, desc => '10 000 rows'),
    'all 10 000 rows present') or diag('rows: ' . rows());
ok(wait_until(sub { pending() == 0 }, timeout => 30, desc => 'pending empty'), 'XPENDING empty');
is($pg->psql('select count(distinct device_id) from positions'), 101, '100 devices (+1)');

# --- 3. every record published twice: each row once, duplicates counted -------------------
$g = Harness::gen(redis => $r, n => 2_000, devices => 10, seed => 2, passes => 2,
    base_ms => 1_800_000_000_000);
push @all, $g;
ok(wait_until(sub { rows() == 12_001 && pending() == 0 }, timeout => 120, desc => 'dups absorbed'),
    'duplicates absorbed: each row once') or diag('rows: ' . rows());
is($p->stop, 0, 'clean exit on SIGTERM');
my $t = totals($p);
is($t->{duplicates}, 2_000, 'duplicates counted');
is($t->{inserted}, 12_001, 'inserted counted');
Harness::expect_rows($pg, \@all, extra => [$payload]);

# --- 4. poison mixed in ------------------------------------------------------------------
$p = start_processor();
$g = Harness::gen(redis => $r, n => 3_000, devices => 30, seed => 3, poison => 10,
    base_ms => 1_810_000_000_000);
push @all, $g;
ok($g->{poison} > 0, "generator mixed in $g->{poison} poison records");
ok(wait_until(sub { rows() == 12_001 + $g->{valid} && pending() == 0 && dlq_len() == $g->{poison} },
    timeout => 120, desc => 'poison settled'), 'valid rows present, poison dead-lettered, nothing pending')
    or diag('rows ' . rows() . ' dlq ' . dlq_len() . ' pending ' . pending());
my $dlq = $r->cmd('XRANGE', "$STREAM:dlq", '-', '+');
my %reasons;
my $complete = 1;
for my $e (@$dlq) {
	my %f = @{$e->[1]};
	$complete = 0 unless $f{id} && defined $f{payload} && $f{error} && $f{stage} && $f{consumer}
	    && $f{failed_at};
	$reasons{$f{reason} // 'none'}++;
}
ok($complete, 'every DLQ entry has id, payload, error, stage, consumer, failed_at');
ok(!$reasons{none}, 'every DLQ entry has a reason code: ' . join(',', sort keys %reasons));
my %ids = map { my %f = @{$_->[1]}; ($f{id} => 1) } @$dlq;
is(scalar keys %ids, $g->{poison}, 'each poison entry dead-lettered exactly once');
Harness::expect_rows($pg, \@all, extra => [$payload]);
my $poison = Harness::poison_ids($r, [$g], stream => $STREAM);
Harness::expect_dlq($r, $poison, stream => $STREAM);
is($p->stop, 0, 'clean exit');

# --- 5. PostgreSQL stops mid-run and comes back ---------------------------------------------
$p = start_processor();
my $before = rows();
$g = Harness::gen(redis => $r, n => 5_000, devices => 50, seed => 4, base_ms => 1_820_000_000_000);
push @all, $g;
ok(wait_until(sub { rows() > $before }, timeout => 60, desc => 'rows flowing'), 'rows flowing');
$pg->stop('fast');
my $g2 = Harness::gen(redis => $r, n => 5_000, devices => 50, seed => 5, base_ms => 1_830_000_000_000);
push @all, $g2;
ok($p->wait_log(qr/lost the PostgreSQL connection|batch write failed|cannot connect to PostgreSQL/, 30),
    'the outage is logged');
ok($p->running, 'processor keeps running while PostgreSQL is down');
$pg->restart;
ok(wait_until(sub { rows() == $before + 10_000 && pending() == 0 }, timeout => 120,
    desc => 'caught up'), 'no loss after the PostgreSQL restart') or diag('rows ' . rows());
is(dlq_len(), scalar(keys %ids), 'no valid record dead-lettered');
Harness::expect_rows($pg, \@all, extra => [$payload], name => 'after the PostgreSQL restart: positions equals the published records');
Harness::expect_dlq($r, $poison, stream => $STREAM, name => 'after the PostgreSQL restart: DLQ');
is($p->stop, 0, 'clean exit');

# --- 6. kill -9 mid-batch; the same consumer finishes its pending entries ----------------------
$pg->slow_writes(0.3);
$p = start_processor();
$before = rows();
$g = Harness::gen(redis => $r, n => 3_000, devices => 30, seed => 6, base_ms => 1_840_000_000_000);
push @all, $g;
ok(wait_until(sub { rows() > $before && pending() > 0 }, timeout => 60, desc => 'mid-run'),
    'killed mid-run with entries pending');
$p->kill9;
my $stranded = pending();
ok($stranded > 0, "$stranded entries left pending by the killed process");
$pg->slow_writes(0);
$p = start_processor();
ok(wait_until(sub { rows() == $before + 3_000 && pending() == 0 }, timeout => 120,
    desc => 'recovered'), 'restarted consumer finished its pending entries, no loss')
    or diag('rows ' . rows() . ' pending ' . pending());
ok($p->wait_log(qr/pending entries of test-0 replayed/, 5), 'the pending list was replayed');
Harness::expect_rows($pg, \@all, extra => [$payload], name => 'after kill -9: positions equals the published records');
is($p->stop, 0, 'clean exit');
$t = totals($p);
my $devices_in_db = $pg->psql('select count(distinct device_id) from positions');
ok($t->{rehydrated} >= 1 && $t->{rehydrated} <= $devices_in_db,
    "cold devices seeded from positions ($t->{rehydrated})");

# --- 7. rehydration is exact: one record of a known device seeds it from its latest row ---
$p = start_processor();
$r->cmd('XADD', $STREAM, '*', 'payload', '{"device_id":"356307042441013","timestamp":'
    . '"2020-01-01T00:00:00Z","latitude":1,"longitude":2}');
ok(wait_until(sub { pending() == 0 && rows() == $before + 3_001 }, timeout => 30,
    desc => 'old fix stored'), 'an old fix of a known device is stored');
is($p->stop, 0, 'clean exit');
$t = totals($p);
is($t->{rehydrated}, 1, 'the known device was rehydrated with one query');

done_testing;
