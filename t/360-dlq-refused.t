#!/usr/bin/perl
# Issue 14: a dead letter Redis refuses at run time (WRONGTYPE inside MULTI/EXEC: the DLQ key
# holds a string) must not be ACKed.  The poison entry stays pending, the worker retries with
# backoff, and once the key is fixed the entry is dead-lettered once and ACKed.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';
$r->cmd('SET', "$S:dlq", 'x');
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { redis => { consumer_prefix => 'wt', block_ms => 200, batch_size => 50 },
        processor => { workers => 1 } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');

my $g = Harness::gen(redis => $r, n => 200, devices => 5, seed => 36);
my $bad = '{"device_id":"x",';
my $id = $r->cmd('XADD', $S, '*', 'payload', $bad);
my $g2 = Harness::gen(redis => $r, n => 200, devices => 5, seed => 37, base_ms => 1_700_000_000_000);

my $refused = $p->wait_event(entry => $id, redis_error => qr/WRONGTYPE/);
ok($refused, 'the refused XADD is logged with the entry id and the Redis error');
my $pending = sub { [ map { $_->[0] } @{$r->cmd('XPENDING', $S, 'processor', '-', '+', 1000)} ] };
ok(wait_until(sub { grep { $_ eq $id } @{$pending->()} }, timeout => 10, quiet => 1),
    'the poison entry is not ACKed while its dead letter is refused');
ok(wait_until(sub { ($p->metric_sum($p->metrics, 'processor_settle_errors_total') // 0) >= 2 },
    timeout => 20, desc => 'settle errors'), 'processor_settle_errors_total counts the failed settles');
is($r->cmd('TYPE', "$S:dlq"), 'string', 'the DLQ key is untouched');

$r->cmd('DEL', "$S:dlq");
ok(wait_until(sub { $r->xlen("$S:dlq") >= 1 && $r->pending($S, 'processor') == 0 },
    timeout => 30, desc => 'settled'), 'after the key is fixed the entry is dead-lettered and ACKed');
Harness::expect_dlq($r, { $id => [$bad, 'bad_json'] }, name => 'DLQ after the fix');
Harness::expect_rows($pg, [$g, $g2], name => 'no row lost or added, column by column');
is($p->stop, 0, 'clean exit');
done_testing;
