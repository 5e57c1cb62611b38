#!/usr/bin/perl
# Fault suite 6: every kind of poison mixed into 10 000 good records; each lands in the DLQ once
# with its reason, the good ones all land, nothing stays pending.  Includes a row that only
# PostgreSQL refuses (a CHECK constraint), found by splitting the batch.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';

sub rec
{
	my (%o) = @_;
	my $dev = $o{device} // 'zoo-1';
	my $ts = $o{ts} // '"2026-05-01T10:00:00Z"';
	my $lat = $o{lat} // '45.1';
	my $attrs = $o{attrs} // '{}';
	return qq({"device_id":"$dev","timestamp":$ts,"latitude":$lat,"longitude":15.9,"attributes":$attrs});
}

my @zoo = (
	[ 'invalid JSON',          'bad_json',         '{"device_id":"x",' ],
	[ 'truncated UTF-8',       'bad_utf8',         rec(device => "abc\xc3") ],
	[ 'bare 0xC3 in a value',  'bad_utf8',         rec(attrs => qq({"1":"\xc3"})) ],
	[ '1 MiB + 1 payload',     'too_large',        rec(attrs => '{"1":"' . ('x' x 1_048_576) . '"}') ],
	[ '10 000-deep nesting',   'too_deep',         rec(attrs => ('[' x 10_000) . (']' x 10_000)) ],
	[ 'unknown sentinel',      'unknown_sentinel', rec(attrs => '{"5":{"__date":"2026"}}') ],
	[ 'bad base64',            'bad_base64',       rec(attrs => '{"5":{"__buffer_b64":"AQID!A=="}}') ],
	[ 'bigint 12a',            'bad_bigint',       rec(attrs => '{"5":{"__bigint":"12a"}}') ],
	[ 'latitude 999',          'out_of_range',     rec(lat => 999) ],
	[ 'year 9999',             'bad_timestamp',    rec(ts => '"9999-01-01T00:00:00Z"') ],
	[ 'NaN as a string',       'wrong_type',       rec(lat => '"NaN"') ],
	[ 'duplicate keys',        'duplicate_key',    '{"device_id":"a","device_id":"b","timestamp":0,"latitude":1,"longitude":1}' ],
	[ 'NUL byte in device_id', 'nul_byte',         rec(device => 'zoo\u0000') ],
	[ 'missing latitude',      'missing_field',    '{"device_id":"a","timestamp":0,"longitude":1}' ],
	[ 'refused by PostgreSQL', 'rejected_by_postgres', rec(device => 'refused-by-check') ],
);

# A value the codec accepts but the database refuses: the write path must isolate it.
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { redis => { consumer_prefix => 'zoo', block_ms => 200, batch_size => 500 } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
$pg->psql(q{alter table positions add constraint zoo_check check (device_id <> 'refused-by-check')});

# Interleave: good records around every poison, so each bad one shares its batch with good ones.
my %expect;	# entry id => [name, reason, payload]
my $g1 = Harness::gen(redis => $r, n => 5_000, devices => 50, seed => 11);
for my $z (@zoo) {
	my $id = $r->cmd('XADD', $S, '*', 'payload', $z->[2]);
	$expect{$id} = $z;
}
my $noid = $r->cmd('XADD', $S, '*', 'v', '1', 'codec', '8E');
$expect{$noid} = [ 'missing payload field', 'missing_payload', '' ];
my $g2 = Harness::gen(redis => $r, n => 5_000, devices => 50, seed => 12, base_ms => 1_900_000_000_000);

my $nbad = scalar keys %expect;
ok(wait_until(sub { $r->xlen("$S:dlq") >= $nbad && $r->pending($S, 'processor') == 0 },
    timeout => 120, desc => 'zoo settled'), 'every entry settled');
Harness::expect_rows($pg, [$g1, $g2],
    name => 'every good record stored once, column by column, and no poison row');

# Each dead letter: its id, the original payload bytes (a prefix for the one over max_payload,
# with its full length) and its reason; then how and when each was dead-lettered.
my %want = map { $_ => [$expect{$_}[2], $expect{$_}[1],
    $expect{$_}[1] eq 'too_large' ? 'prefix' : ()] } keys %expect;
my $seen = Harness::expect_dlq($r, \%want, name => "DLQ ($nbad poison entries)");
for my $id (sort keys %expect) {
	my $name = $expect{$id}[0];
	is($seen->{$id}{deliveries}, 1, "$name: dead-lettered on its first delivery");
}
my ($pgid) = grep { $expect{$_}[1] eq 'rejected_by_postgres' } keys %expect;
is($seen->{$pgid}{stage}, 'write', 'database refusal dead-lettered at the write stage');
like($seen->{$pgid}{error}, qr/23514/, 'with the SQLSTATE');
ok($p->wait_log(qr/isolating the bad rows/, 5), 'batch split logged');
ok(wait_until(sub { (($p->metrics // {})->{processor_dlq_length} // -1) == $nbad }, timeout => 20,
    desc => 'dlq gauge'), 'processor_dlq_length reports the DLQ length');
is($p->stop, 0, 'clean exit');
done_testing;
