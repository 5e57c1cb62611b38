#!/usr/bin/perl
# Issue 14 defect 8: Redis frozen (SIGSTOP) while a worker's settle (MULTI/EXEC of dead letters,
# XACK) or lease renewal (XCLAIM) is outstanding.  hiredis 0.14 has no command timeout, and only
# XREADGROUP had a guard, so the worker waited for the reply forever.  Now the wait ends at
# command_timeout_ms: the command is logged, counted, /readyz says why, and after SIGCONT every
# valid record is stored exactly once (by content), every poison record is in the DLQ once,
# nothing is pending.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use CtlTest;
use Time::HiRes qw(time);

my ($TIMEOUT_MS, $SLEEP_S) = (1_000, 1);
# One worker, one batch at a time: while a batch is written no read is outstanding, so the
# settle that follows the commit is the only thing waiting on Redis.
my ($r, $pg, $p) = Harness::stack(config => {
    redis => { consumer_prefix => 'rd', block_ms => 200, batch_size => 50,
        command_timeout_ms => $TIMEOUT_MS, connect_timeout_ms => $TIMEOUT_MS },
    processor => { workers => 1, max_inflight => 1 } });
$pg->slow_writes($SLEEP_S);
# One record in five is poison: every full batch of 50 settles with MULTI/EXEC.
my $g = Harness::gen(redis => $r, n => 400, devices => 20, seed => 3801, poison => 5);

# Freeze Redis while a full batch sleeps in its trigger (one after the first, which may have
# caught a single entry): its settle goes out to a frozen Redis.
ok(wait_until(sub { $pg->psql(q{select (select count(*) from positions) > 0
    and exists (select 1 from pg_stat_activity
    where application_name = 'processor' and wait_event = 'PgSleep')}) eq 't' },
    timeout => 30, desc => 'a batch in its trigger'), 'a full batch is being written');
my $mark = $p->mark;
$r->kill_stop;
my $t0 = time;
my $ev = $p->wait_event(event => 'redis_timeout', from => $mark,
    timeout => $SLEEP_S + $TIMEOUT_MS / 1000 + 5);
my $took = time - $t0;
ok($ev, 'the outstanding command is logged as timed out');
like($ev && $ev->{command}, qr/^(MULTI|dead letter of entry|EXEC of)/,
    'the command that timed out is the dead letters\' MULTI/EXEC (' . ($ev && $ev->{command}) . ')');
like($ev && $ev->{command}, qr/\d+-\d+/, 'the log names the entries');
is($ev && $ev->{level}, 'error', 'logged at error');
cmp_ok($ev && $ev->{waited_s}, '<=', $TIMEOUT_MS / 1000 + 1,
    'it waited no longer than command_timeout_ms (+1 s)');
cmp_ok($took, '<=', $SLEEP_S + $TIMEOUT_MS / 1000 + 3,
    sprintf('within the write, the deadline and 3 s of the freeze (%.1f s)', $took));

# Still frozen: the worker is down, and /readyz says it timed out.
my $ready;
ok(wait_until(sub { $ready = $p->readyz; $ready->{status} == 503
    && $ready->{content} =~ /redis down: timed out/ }, timeout => 10, desc => 'readyz'),
    '/readyz 503 while Redis is frozen');
like($ready->{reason}, qr/^worker 0: redis down: timed out/, "reason: $ready->{reason}");
my $n = 0;
ok(wait_until(sub { $n = $p->metric_sum($p->metrics, 'processor_redis_timeouts_total') // 0;
    $n >= 1 }, timeout => 10, desc => 'metric'), "processor_redis_timeouts_total counts it ($n)");

# processorctl's Redis commands (the master's connection) have the same deadline: the op
# fails after command_timeout_ms with the reason, not after its own 10 s.
my $c0 = time;
my ($crc, $cj, $cout, $cerr) = ctl_json($p, 'dlq', 'list');
my $ctook = time - $c0;
isnt($crc, 0, 'processorctl dlq list fails while Redis is frozen');
like(($cj && $cj->{error}) // "$cout$cerr", qr/no reply to \S+ within/, 'and says Redis did not reply');
cmp_ok($ctook, '<=', $TIMEOUT_MS / 1000 + 3, sprintf('after about command_timeout_ms (%.1f s)', $ctook));

$r->kill_cont;
$pg->slow_writes(0);
($crc) = ctl_json($p, 'dlq', 'list');
is($crc, 0, 'processorctl dlq list works again once Redis answers');
Harness::expect_settled($r, $pg, [$g], timeout => 60, name => 'after the freeze');
ok(wait_until(sub { $p->readyz->{status} == 200 }, timeout => 30, desc => 'ready'),
    '/readyz 200 again once Redis answers');
is($p->stop, 0, 'clean exit');
done_testing;
