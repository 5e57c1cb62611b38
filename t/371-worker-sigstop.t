#!/usr/bin/perl
# Issue 14: a worker frozen (SIGSTOP) longer than claim_idle_ms while it holds entries; the other
# worker claims them (XAUTOCLAIM), then the frozen one resumes and finishes the batch it was
# writing.  Both settle the same entries: every valid record exactly once (by content), every
# poison record in the DLQ once, nothing pending, delivery counts and claim time bounded.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use Time::HiRes qw(time sleep);

my $S = 'telemetry:t';
my ($IDLE, $INTERVAL) = (1_000, 200);
my ($r, $pg, $p) = Harness::stack(config => {
    redis => { consumer_prefix => 'ws', block_ms => 200, batch_size => 100,
        claim_idle_ms => $IDLE, claim_interval_ms => $INTERVAL },
    processor => { workers => 2, max_inflight => 2 } });
$pg->slow_writes(0.3);
my $g = Harness::gen(redis => $r, n => 3_000, devices => 30, seed => 711, poison => 50);

# The pid of the worker that is consumer ws-0.
my $up = $p->wait_event(event => 'up', worker => 0, timeout => 5);
my $victim = $up->{pid};
ok($victim && Harness::pid_alive($victim), "worker 0 (consumer ws-0) is pid $victim");
ok(wait_until(sub { (Harness::pending_by_consumer($r, $S, 'processor')->{'ws-0'} // 0) > 0 },
    timeout => 30, desc => 'ws-0 holds'), 'ws-0 holds entries');
kill 'STOP', $victim;
my $t_stop = time;
my @held = map { $_->{id} } grep { $_->{consumer} eq 'ws-0' }
    Harness::pending_entries($r, $S, 'processor');
ok(@held > 0, scalar(@held) . ' entries pending on ws-0 when it froze');

# The other worker must claim them within claim_idle_ms + claim_interval (+ slack).
my %held = map { $_ => 1 } @held;
my $t_claim;
ok(wait_until(sub { my $per = Harness::pending_by_consumer($r, $S, 'processor');
    ($per->{'ws-0'} // 0) == 0 }, timeout => 20, desc => 'claimed'),
    'every entry of the frozen worker was claimed away');
$t_claim = time - $t_stop;
cmp_ok($t_claim, '<=', ($IDLE + 2 * $INTERVAL) / 1000 + 3,
    sprintf('claimed within claim_idle_ms + 2 intervals + 3 s slack (%.1f s)', $t_claim));
my $claim = $p->wait_log(qr/claimed \d+ entries idle for more than/, 5);
ok($claim, 'the claim is logged');
is($claim && $claim->{consumer}, 'ws-1', 'by the other worker');
my %del = map { $_->{id} => $_->{deliveries} } Harness::pending_entries($r, $S, 'processor');
my @over = grep { ($del{$_} // 2) > 2 } @held;
is(scalar @over, 0, 'each claimed entry delivered exactly twice at most');
sleep 1;
kill 'CONT', $victim;
ok(Harness::pid_alive($victim), 'the frozen worker resumes (not killed meanwhile)');
$pg->slow_writes(0);
# The resumed worker and the one that claimed its entries both settle the same poison
# entries: only the one still holding an entry dead-letters it (consume.c's dead-letter
# script), so each is in the DLQ once.
Harness::expect_settled($r, $pg, [$g], timeout => 40, name => 'after the resume');
is($p->stop, 0, 'clean exit');
my $t = $p->worker_totals;
cmp_ok($t->{claimed} // 0, '>=', scalar @held, "claims counted ($t->{claimed})");
is($t->{'delivery-limit'} // 0, 0, 'nothing dead-lettered for its delivery count');
done_testing;
