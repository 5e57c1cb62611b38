#!/usr/bin/perl
# Issue 14: Redis frozen (SIGSTOP) for longer than claim_idle_ms while two workers hold entries.
# When it thaws every pending entry is idle past claim_idle_ms, so the workers' XAUTOCLAIM may
# take each other's entries while the owner still writes them.  Every valid record exactly
# once (by content), every poison record in the DLQ once with its reason, nothing pending,
# delivery counts bounded.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use Time::HiRes qw(time sleep);

my $S = 'telemetry:t';
my ($IDLE, $INTERVAL, $FREEZE) = (1_000, 200, 3);
my ($r, $pg, $p) = Harness::stack(config => {
    redis => { consumer_prefix => 'rs', block_ms => 200, batch_size => 100,
        claim_idle_ms => $IDLE, claim_interval_ms => $INTERVAL },
    processor => { workers => 2, max_inflight => 2 } });
# Slow batches, so both workers hold entries when Redis freezes.
$pg->slow_writes(0.5);
my $g = Harness::gen(redis => $r, n => 2_000, devices => 40, seed => 701, poison => 50);
my $per;
ok(wait_until(sub { $per = Harness::pending_by_consumer($r, $S, 'processor');
    ($per->{'rs-0'} // 0) > 0 && ($per->{'rs-1'} // 0) > 0 }, timeout => 30, desc => 'both hold'),
    'both workers hold entries before the freeze');
my $rows0 = $pg->psql('select count(*) from positions');
my $mark = $p->mark;
$r->kill_stop;
my $t0 = time;
sleep $FREEZE;
my $rows1 = $pg->psql('select count(*) from positions');
$r->kill_cont;
diag(sprintf('Redis frozen %.1f s (claim_idle_ms %d); rows %d -> %d during the freeze',
    time - $t0, $IDLE, $rows0, $rows1));
ok($p->running, 'the daemon survived the freeze');

# Delivery counts while it drains: no entry should be delivered more than twice (once to its
# owner, once more to a claimer).
my $maxdel = 0;
my $t_end = time + 60;
while (time < $t_end) {
	for my $e (Harness::pending_entries($r, $S, 'processor', 2_000)) {
		$maxdel = $e->{deliveries} if $e->{deliveries} > $maxdel;
	}
	last if $r->pending($S, 'processor') == 0
	    && $pg->psql('select count(*) from positions') >= $g->{valid};
	sleep 0.1;
}
$pg->slow_writes(0);
cmp_ok($maxdel, '<=', 2, "no entry delivered more than twice after the freeze (max $maxdel)");
Harness::expect_settled($r, $pg, [$g], timeout => 30, name => 'after the freeze');
is($p->stop, 0, 'clean exit');
my $t = $p->worker_totals;
diag("claimed $t->{claimed}, delivery-limit $t->{'delivery-limit'}, dead-lettered $t->{'dead-lettered'}");
is($t->{'delivery-limit'} // 0, 0, 'nothing dead-lettered for its delivery count');
done_testing;
