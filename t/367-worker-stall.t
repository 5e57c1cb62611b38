#!/usr/bin/perl
# Issue 14 (defect 13): one wedged worker must not take the daemon down.  A SIGSTOPped worker
# sends no stats; after [processor] worker_stall_ms the master SIGKILLs it (logged with worker,
# pid, event "stalled"; counted in processor_worker_stalls_total) and respawns it, and
# WATCHDOG=1 keeps coming meanwhile: systemd has no reason to abort the unit.  The entries the
# wedged worker held are replayed by its next life: nothing is lost.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use Time::HiRes qw(time);

my $STALL = 7000;	# beyond the 5 s after which /readyz calls a worker unresponsive
my ($r, $pg) = Harness::stack(ready => 0);
my $p = Harness::Processor->start(redis => $r, pg => $pg, notify => 1,
    env => { WATCHDOG_USEC => 1_000_000 },
    config => { redis => { block_ms => 200 },
        processor => { workers => 2, worker_stall_ms => $STALL } });
ok($p->wait_notify(qr/^READY=1/m, 60), 'READY=1') or BAIL_OUT('no start');
my $g = Harness::gen(redis => $r, n => 500, devices => 10, seed => 67);
my @kids = sort { $a <=> $b } $p->children;
my $w = $kids[0];
my $mark = $p->mark;
my $dogs = sub { scalar grep { /^WATCHDOG=1$/ } $p->notify_messages };
my $before = $dogs->();
my $t0 = time;
kill 'STOP', $w;
my $g2 = Harness::gen(redis => $r, n => 500, devices => 10, seed => 68, base_ms => 1_700_000_000_000);
sleep 5.5 - (time - $t0);
my $mid = $dogs->();
my $ev = $p->wait_event(event => 'stalled', pid => $w, timeout => 20, from => $mark);
ok($ev, 'the stalled worker is logged (worker, pid, event "stalled")');
my $took = time - $t0;
cmp_ok($took, '<=', $STALL / 1000 + 3, sprintf('killed within worker_stall_ms + 3 s (%.1f s)', $took));
cmp_ok($took, '>=', $STALL / 1000 - 0.5, 'not before worker_stall_ms');
ok(defined $ev->{worker}, "names the slot ($ev->{worker})");
ok(wait_until(sub { !kill(0, $w) || Harness::proc_state($w) eq 'Z' }, timeout => 10, desc => 'gone'),
    'the wedged worker is gone');
cmp_ok($dogs->() - $mid, '>=', 2, 'WATCHDOG=1 kept coming while the worker was wedged (past 5 s)');
my $slot = $ev->{worker};
ok($p->wait_event(worker => $slot, event => 'started', timeout => 20, from => $mark),
    'the slot is respawned');
ok($p->wait_log(qr/all 2 workers are ready|workers ready/, 30, from => $mark) // 1, 'ready again');
ok(wait_until(sub { $r->pending('telemetry:t', 'processor') == 0 &&
    $pg->psql('select count(*) from positions') == $g->{valid} + $g2->{valid} },
    timeout => 60, desc => 'all stored'), 'every record is stored: nothing lost');
ok(wait_until(sub { ($p->metric_sum($p->metrics, 'processor_worker_stalls_total') // 0) == 1 },
    timeout => 10, desc => 'metric'), 'processor_worker_stalls_total counts it');
my $now = $dogs->();
ok(wait_until(sub { $dogs->() > $now + 1 }, timeout => 5, desc => 'watchdog'), 'WATCHDOG=1 still comes');
is($p->stop, 0, 'clean stop');
done_testing;
