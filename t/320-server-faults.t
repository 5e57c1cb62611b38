#!/usr/bin/perl
# Fault suite 3 and 4: PostgreSQL paused (SIGSTOP) and fast-restarted, Redis killed and restarted
# with and without persistence.  Every valid record exactly once, nothing pending, reads held
# back while the database cannot take writes.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use Time::HiRes qw(sleep);

Harness::need(qw(redis pg));
my $S = 'telemetry:t';
my $pg = Harness::Pg->start;
my $base = 1_900_000_000_000;
my $expected = 0;

my @gens;
sub rows { $pg->psql('select count(*) from positions') }
sub publish
{
	my ($r, $n) = @_;
	my $g = Harness::gen(redis => $r, n => $n, devices => 20, seed => $base, base_ms => $base);
	$base += 10_000_000;
	$expected += $g->{valid};
	push @gens, $g;
}
sub entries_read
{
	my ($r) = @_;
	my $groups = $r->cmd('XINFO', 'GROUPS', $S);
	my %g = @{$groups->[0]};
	return $g{'entries-read'};
}
sub settled
{
	my ($r, $desc) = @_;
	ok(wait_until(sub { rows() == $expected && $r->pending($S, 'processor') == 0 },
	    timeout => 120, desc => $desc), "$desc: every record once, nothing pending")
	    or diag('rows ' . rows() . " expected $expected");
	Harness::expect_rows($pg, \@gens);	# by content, every column
}
sub start_processor
{
	my ($r, %o) = @_;
	my $p = Harness::Processor->start(redis => $r, pg => $pg, %o,
	    config => { redis => { consumer_prefix => 'sf', block_ms => 200, batch_size => 200 },
	        processor => { workers => 1, max_inflight => 2 } });
	ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
	return $p;
}

# --- Redis with appendonly: kill -9 and restart keeps stream, group and pending list ----------
my $r = Harness::Redis->start(appendonly => 1);
my $p = start_processor($r);
publish($r, 4_000);
ok(wait_until(sub { rows() > 0 }, timeout => 60, desc => 'flowing'), 'rows flowing');
$r->kill9;
ok($p->wait_log(qr/lost the Redis connection/, 30), 'the Redis loss is logged');
$r->restart;
publish($r, 4_000);
settled($r, 'Redis kill -9 with appendonly');
is($p->stop, 0, 'clean exit');

# --- PostgreSQL paused: reads stop at max_inflight batches, resume after -----------------------
$p = start_processor($r);
my $read_before = entries_read($r);
$pg->kill_stop;
my $t0 = time;
publish($r, 20_000);
sleep 8;	# the pause is the fault itself: the database stays frozen for 10 s in all
my $read_paused = entries_read($r) - $read_before;
cmp_ok($read_paused, '<=', 2 * 200, "at most max_inflight batches read while PostgreSQL is frozen ($read_paused)");
cmp_ok($r->xlen($S) - entries_read($r), '>=', 19_000, 'the backlog waits in Redis');
sleep 10 - (time - $t0) if time - $t0 < 10;
$pg->kill_cont;
settled($r, 'PostgreSQL paused 10 s');
ok($p->running, 'processor survived the pause');

# --- PostgreSQL fast restart under load ----------------------------------------------------------
publish($r, 10_000);
$pg->restart('fast');
publish($r, 2_000);
settled($r, 'PostgreSQL fast restart');
is($p->stop, 0, 'clean exit');
my $dlq = eval { $r->xlen("$S:dlq") } // 0;
is($dlq, 0, 'no valid record dead-lettered by the outages');

# --- Redis without persistence: everything lost upstream, the group is recreated -------------------
my $r2 = Harness::Redis->start;
$p = start_processor($r2);
publish($r2, 2_000);
settled($r2, 'before the loss');
$r2->stop;
$r2->restart;	# empty: no stream, no group
ok($p->wait_log(qr/was gone .* recreated/, 60), 'the loss of the group is logged as an error');
publish($r2, 2_000);
settled($r2, 'after the group was recreated');
is($p->stop, 0, 'clean exit');
cmp_ok($p->worker_totals->{'group-recreated'} // 0, '>=', 1, 'group recreation counted');
done_testing;
