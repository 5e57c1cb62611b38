#!/usr/bin/perl
# Issue 14: a poison payload under max_payload (here 200 KiB) is stored whole in the DLQ, so a
# replay after the fix sends the same bytes; only payloads over max_payload keep a prefix.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

my ($r, $pg, $p) = Harness::stack(config => { redis => { consumer_prefix => 'big', block_ms => 200 },
    processor => { workers => 1, max_future_ms => undef, max_past_days => undef } });
my $S = 'telemetry:t';
my $blob = join('', map { chr(97 + $_ % 26) } 0 .. 200 * 1024 - 1);
my $big = qq({"device_id":"big","timestamp":"2026-05-01T10:00:00Z","latitude":999,"longitude":1,)
    . qq("attributes":{"1":"$blob"}});
cmp_ok(length $big, '>', 200 * 1024, 'payload over 200 KiB');
my $id = $r->cmd('XADD', $S, '*', 'payload', $big);
ok(wait_until(sub { $r->xlen("$S:dlq") >= 1 && $r->pending($S, 'processor') == 0 },
    timeout => 30, desc => 'settled'), 'dead-lettered and ACKed');
my @dlq = map { +{ @{$_->[1]} } } @{$r->cmd('XRANGE', "$S:dlq", '-', '+')};
is(scalar @dlq, 1, 'one dead letter');
is($dlq[0]{id}, $id, 'for the entry');
is($dlq[0]{reason}, 'out_of_range', 'reason out_of_range');
is($dlq[0]{payload_len}, length $big, 'payload_len is the full length');
is(length $dlq[0]{payload}, length $big, 'the stored payload has the full length');
ok($dlq[0]{payload} eq $big, 'the stored payload equals the original bytes');
is($p->stop, 0, 'clean exit');
done_testing;
