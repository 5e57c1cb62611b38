#!/usr/bin/perl
# Issue 14 (defect 8): a record whose key (device_id, ts) is already stored with other
# content is not a duplicate.  First wins: the stored row stays; the later record is counted
# in processor_duplicate_conflicts_total and logged with its entry id, device and ts; an
# identical record is still a plain duplicate.  With [processor] dead_letter_conflicts on,
# the later record is also dead-lettered with reason duplicate_conflict.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';
my $ts = 1_700_000_000_000;
sub rec { my ($dev, $lat, $extra) = @_; $extra //= '';
	qq({"device_id":"$dev","timestamp":$ts,"latitude":$lat,"longitude":15.25$extra}) }
my $stored = sub { $pg->psql("select latitude || '/' || attributes::text from positions where device_id = '$_[0]'") };

sub run_phase
{
	my (%o) = @_;
	my $p = Harness::Processor->start(redis => $r, pg => $pg,
	    config => { redis => { consumer_prefix => 'dc', block_ms => 200 },
	        processor => { workers => 1, %{$o{processor} // {}} } });
	ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
	return $p;
}

# Phase 1: default (off): counted and logged, not dead-lettered.
my $p = run_phase();
my $first = $r->cmd('XADD', $S, '*', 'payload', rec('dc-1', 45.5));
ok(wait_until(sub { $stored->('dc-1') ne '' }, timeout => 20, desc => 'first stored'), 'the first record is stored');
my $same = $r->cmd('XADD', $S, '*', 'payload', rec('dc-1', 45.5));
my $other = $r->cmd('XADD', $S, '*', 'payload', rec('dc-1', 46.5));
my $attrs = $r->cmd('XADD', $S, '*', 'payload', rec('dc-1', 45.5, ',"attributes":{"1":7}'));
ok(wait_until(sub { $r->pending($S, 'processor') == 0 && $r->xlen($S) == 4 &&
    ($p->metric_sum($p->metrics, 'processor_rows_duplicate_total') // 0)
    + ($p->metric_sum($p->metrics, 'processor_duplicate_conflicts_total') // 0) >= 3 },
    timeout => 20, desc => 'settled'), 'all settled');
my $m = $p->metrics;
is($p->metric_sum($m, 'processor_duplicate_conflicts_total'), 2,
    'the two records with other content are counted as conflicts');
is($stored->('dc-1'), '45.5/{}', 'first wins: the stored row is unchanged');
for my $id ($other, $attrs) {
	ok($p->wait_event(entry => $id, device => 'dc-1', ts => $ts * 1000, timeout => 5),
	    "the conflict of $id is logged with entry, device and ts");
}
ok(!$p->wait_event(entry => $same, reason => 'duplicate_conflict', timeout => 1),
    'an identical record is not a conflict');
is($r->xlen("$S:dlq"), 0, 'nothing dead-lettered by default');
is($p->stop, 0, 'clean exit');

# Phase 2: dead_letter_conflicts on.  Published while stopped, so one batch holds them all,
# among them a new key twice with other content (compared within the batch) and an
# identical copy of it.
my $later = $r->cmd('XADD', $S, '*', 'payload', rec('dc-1', 47.5));
my $dup = $r->cmd('XADD', $S, '*', 'payload', rec('dc-1', 45.5));
my $new1 = $r->cmd('XADD', $S, '*', 'payload', rec('dc-2', 10.5));
my $new2 = $r->cmd('XADD', $S, '*', 'payload', rec('dc-2', 11.5));
my $new3 = $r->cmd('XADD', $S, '*', 'payload', rec('dc-2', 10.5));
$p = run_phase(processor => { dead_letter_conflicts => 'on' });
ok(wait_until(sub { $r->xlen("$S:dlq") >= 2 && $r->pending($S, 'processor') == 0 },
    timeout => 20, desc => 'dead-lettered'), 'the conflicting records are dead-lettered');
my %dlq = map { my %f = @{$_->[1]}; ($f{id} => \%f) } @{$r->cmd('XRANGE', "$S:dlq", '-', '+')};
is(join(',', sort keys %dlq), join(',', sort $later, $new2), 'exactly the two later records');
is($dlq{$later}{reason}, 'duplicate_conflict', 'reason duplicate_conflict');
is($dlq{$later}{payload}, rec('dc-1', 47.5), 'with its payload');
is($dlq{$new2}{reason}, 'duplicate_conflict', 'in-batch conflict: reason duplicate_conflict');
is($stored->('dc-1'), '45.5/{}', 'the stored row is still the first');
is($stored->('dc-2'), '10.5/{}', 'in the batch the first wins too');
ok(wait_until(sub { ($p->metric_sum($p->metrics, 'processor_duplicate_conflicts_total') // 0) == 2 },
    timeout => 10, desc => 'counted'), 'counted');
is($p->stop, 0, 'clean exit');
done_testing;
