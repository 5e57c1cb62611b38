#!/usr/bin/perl
# Fault suite 5: two processor instances on one group share the work; one is killed -9 while it
# holds entries, and the survivor claims them (XAUTOCLAIM) within claim_idle_ms + one interval.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

my $S = 'telemetry:t';
my ($r, $pg) = Harness::stack(ready => 0);
my ($IDLE, $INTERVAL) = (2_000, 500);

sub instance
{
	my ($prefix) = @_;
	my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
	    redis => { consumer_prefix => $prefix, block_ms => 200, batch_size => 100,
	        claim_idle_ms => $IDLE, claim_interval_ms => $INTERVAL },
	    processor => { workers => 1 } });
	ok($p->wait_ready(60), "instance $prefix ready") or BAIL_OUT('no start');
	return $p;
}
sub pending_of
{
	my $s = $r->cmd('XPENDING', $S, 'processor');
	my %per = map { $_->[0] => $_->[1] } @{$s->[3] // []};
	return \%per;
}

# Slow batches, so both instances hold entries at the same time.
my $a = instance('a');
my $b = instance('b');
$pg->slow_writes(0.2);
my $g = Harness::gen(redis => $r, n => 6_000, devices => 60, seed => 31);
my %both;
ok(wait_until(sub { my $p = pending_of(); $both{$_} = 1 for grep { $p->{$_} > 0 } keys %$p;
    $both{'a-0'} && $both{'b-0'} }, timeout => 60, desc => 'both hold work'),
    'the group spreads the work over both instances');
ok(wait_until(sub { (pending_of()->{'a-0'} // 0) > 0 }, timeout => 60, desc => 'a holds entries'),
    'instance a holds entries');
# The whole instance dies at once, as with a host failure (killing only its master would
# let the worker finish its batch and leave nothing to claim).
kill 'KILL', $a->group_pids;
ok(wait_until(sub { !$a->group_pids }, timeout => 10, desc => 'a gone'), 'instance a is gone');
my $stranded = pending_of()->{'a-0'} // 0;
ok($stranded > 0, "instance a died holding $stranded entries");
$pg->slow_writes(0);
my $t0 = time;
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $g->{valid}
    && $r->pending($S, 'processor') == 0 }, timeout => 60, desc => 'survivor finished'),
    'the survivor finished everything');
my $took = time - $t0;
cmp_ok($took, '<=', ($IDLE + $INTERVAL) / 1000 + 5, "claimed within claim_idle_ms + one interval (+ slack): ${took}s");
Harness::expect_rows($pg, [$g]);
is($b->stop, 0, 'survivor exits cleanly');
my $claimed = $b->worker_totals->{claimed};
cmp_ok($claimed // 0, '>=', $stranded, "the survivor claimed the stranded entries ($claimed)");
is(eval { $r->xlen("$S:dlq") } // 0, 0, 'nothing dead-lettered');
done_testing;
