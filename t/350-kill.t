#!/usr/bin/perl
# Fault suite 1 and 2: kill -9 a worker five times during one run; then kill -9 the master,
# see its workers leave by themselves, and a new master finish everything.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

my $S = 'telemetry:t';
my ($r, $pg) = Harness::stack(ready => 0);
my $total = 0;
sub rows { $pg->psql('select count(*) from positions') }
sub start
{
	my $p = Harness::Processor->start(redis => $r, pg => $pg, expect_critical => 0,
	    config => { processor => { workers => 2 }, redis => { consumer_prefix => 'k', batch_size => 100,
	        block_ms => 200 } });
	ok($p->wait_ready(60), 'ready') or BAIL_OUT('no start');
	return $p;
}

# Slow batches, so a killed worker always dies holding entries.
my $p = start();
$pg->slow_writes(0.02);
my $g = Harness::gen(redis => $r, n => 30_000, devices => 300, seed => 51);
my $g1 = $g;
$total += $g->{valid};
my %killed;
for my $round (1 .. 5) {
	my $before = rows();
	ok(wait_until(sub { rows() > $before }, timeout => 60, desc => "round $round flowing"),
	    "round $round: rows flowing");
	my ($victim) = sort { $a <=> $b } $p->children;
	kill 'KILL', $victim;
	$killed{$victim} = 1;
	ok(wait_until(sub { my @c = $p->children; @c == 2 && !grep { $killed{$_} } @c },
	    timeout => 30, desc => 'respawned'), "round $round: worker $victim killed and respawned");
}
$pg->slow_writes(0);
ok(wait_until(sub { rows() == $total && $r->pending($S, 'processor') == 0 }, timeout => 120,
    desc => 'drained'), 'after five kills: every record once, nothing pending')
    or diag('rows ' . rows() . " of $total");
my $m;
ok(wait_until(sub { $m = $p->metrics; ($m->{'processor_worker_restarts_total{worker="0"}'} // 0)
    + ($m->{'processor_worker_restarts_total{worker="1"}'} // 0) >= 5 }, timeout => 10,
    desc => 'restarts'), 'five restarts counted');
is(eval { $r->xlen("$S:dlq") } // 0, 0, 'no valid record dead-lettered');
Harness::expect_rows($pg, [$g1], name => 'after five kills: positions equals the published records, column by column');

# kill -9 the master: its workers notice and exit without it.
$pg->slow_writes(0.02);
$g = Harness::gen(redis => $r, n => 20_000, devices => 300, seed => 52, base_ms => 1_900_000_000_000);
$total += $g->{valid};
my $before = rows();
ok(wait_until(sub { rows() > $before }, timeout => 60, desc => 'flowing'), 'rows flowing');
my @workers = $p->children;
is(scalar @workers, 2, 'two workers before the master dies');
$p->kill9;
ok(wait_until(sub { !grep { Harness::pid_alive($_) } @workers }, timeout => 10,
    desc => 'orphans exit'), 'the workers exit by themselves once their master is gone');
$pg->slow_writes(0);
$p = start();
ok(wait_until(sub { rows() == $total && $r->pending($S, 'processor') == 0 }, timeout => 120,
    desc => 'finished'), 'a new master finishes everything: every record once, nothing pending')
    or diag('rows ' . rows() . " of $total");
Harness::expect_rows($pg, [$g1, $g]);
is($p->stop, 0, 'clean exit');
done_testing;
