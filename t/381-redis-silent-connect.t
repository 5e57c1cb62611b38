#!/usr/bin/perl
# Issue 14 defect 8: a Redis address where something accepts TCP connections and never answers
# (a hung proxy, a half-dead host).  hiredis 0.14 has no async connect timeout, and the
# handshake (AUTH, CLIENT ID, the group check) had no deadline, so a worker that reconnected
# there waited forever.  Now it gives up within connect_timeout_ms, logs it, /readyz says why,
# and it retries until the real Redis is back.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use IO::Socket::INET;
use Time::HiRes qw(time);

my ($CONNECT_MS, $COMMAND_MS) = (1_000, 4_000);
# appendonly: the stream, the group and the DLQ survive the restart at the end.
my ($r, $pg, $p) = Harness::stack(redis => { appendonly => 1 }, config => {
    redis => { consumer_prefix => 'sc', block_ms => 200,
        connect_timeout_ms => $CONNECT_MS, command_timeout_ms => $COMMAND_MS },
    processor => { workers => 1 } });
my $g1 = Harness::gen(redis => $r, n => 200, devices => 10, seed => 3811, poison => 20);
ok(wait_until(sub { $r->pending('telemetry:t', 'processor') == 0
    && $pg->psql('select count(*) from positions') > 0 }, timeout => 30, desc => 'first batch'),
    'records flow before Redis goes');

# Redis goes; a listener takes its port.  The kernel completes every TCP handshake into the
# listen queue, so the worker's connect succeeds, and then nothing ever answers.
my $mark = $p->mark;
$r->stop;
my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $r->port,
    Listen => 128, ReuseAddr => 1, Proto => 'tcp');
ok($silent, 'a silent listener holds the Redis port') or BAIL_OUT("listen: $!");
my $t0 = time;
my $ev = $p->wait_event(event => 'redis_connect_timeout', from => $mark,
    timeout => $CONNECT_MS / 1000 + 10);
my $took = time - $t0;
ok($ev, 'the worker gives up on the connection attempt and logs it');
is($ev && $ev->{level}, 'error', 'logged at error');
cmp_ok($ev && $ev->{waited_s}, '<=', $CONNECT_MS / 1000 + 1,
    'within connect_timeout_ms (+1 s), not command_timeout_ms');
# The first attempt after the loss starts at once (backoff 0.1 s, doubling to 5 s at most).
cmp_ok($took, '<=', $CONNECT_MS / 1000 + 6, sprintf('%.1f s after the listener took over', $took));
my $ready;
ok(wait_until(sub { $ready = $p->readyz; $ready->{content} =~ /timed out/ },
    timeout => 10, desc => 'readyz'), '/readyz says the connection timed out');
is($ready->{status}, 503, '/readyz 503');
like($ready->{reason}, qr/^worker 0: redis down: timed out/, "reason: $ready->{reason}");
# It keeps trying, each attempt bounded: a second timeout follows the first.
ok($p->wait_event(event => 'redis_connect_timeout', from => $p->mark,
    timeout => $CONNECT_MS / 1000 + 10), 'the next attempt is bounded as well');
my $n = 0;
ok(wait_until(sub { $n = $p->metric_sum($p->metrics, 'processor_redis_timeouts_total') // 0;
    $n >= 2 }, timeout => 10, desc => 'metric'),
    "processor_redis_timeouts_total counts the attempts ($n)");

# The real Redis comes back on its port: the worker reconnects and settles everything.
close $silent;
$r->restart;
my $g2 = Harness::gen(redis => $r, n => 200, devices => 10, seed => 3812, poison => 20,
    base_ms => 1_700_100_000_000);
ok(wait_until(sub { $p->readyz->{status} == 200 }, timeout => 30, desc => 'ready'),
    '/readyz 200 once Redis answers');
Harness::expect_settled($r, $pg, [$g1, $g2], timeout => 60, name => 'after the silent listener');
is($p->stop, 0, 'clean exit');
done_testing;
