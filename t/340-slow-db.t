#!/usr/bin/perl
# Fault suite 8: positions locked for 30 s under continuous input.  Workers stop reading at
# max_inflight, lock timeouts are retried (never dead-lettered), memory stays flat, and the
# lag recovers once the lock is gone.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use Time::HiRes qw(time sleep);

my $S = 'telemetry:t';
my ($r, $pg) = Harness::stack(ready => 0);
my $LOCK_S = 30;
my $RSS_GROWTH_KB = 8 * 1024;
my $RSS_MAX_KB = $ENV{ASAN_OPTIONS} ? undef : 48 * 1024;	# sanitizer shadow memory is not ours

sub rss_kb
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/status") or return 0;
	while (my $line = <$fh>) { return $1 if $line =~ /^VmRSS:\s+(\d+)/ }
	return 0;
}

my $p = Harness::Processor->start(redis => $r, pg => $pg, config => {
    redis => { consumer_prefix => 'slow', block_ms => 200, batch_size => 500 },
    postgres => { statement_timeout_ms => 2000 },
    processor => { workers => 1, max_inflight => 2 } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
my $warm = Harness::gen(redis => $r, n => 5_000, devices => 1000, seed => 41);
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $warm->{valid} },
    timeout => 60, desc => 'warm-up'), 'warm-up rows stored');
my @pids = grep { $_ } ($p->pid, $p->children);
my %rss0 = map { $_ => rss_kb($_) } @pids;

# Hold an exclusive lock on positions for 30 s, while a publisher offers 1000 records/s.
my $locker = fork // die "fork: $!";
if ($locker == 0) {
	$pg->psql("begin; lock table positions in access exclusive mode; select pg_sleep($LOCK_S); commit;",
	    timeout => $LOCK_S + 30);
	POSIX::_exit(0);
}
ok(wait_until(sub { $pg->psql(q{select count(*) from pg_locks where relation = 'positions'::regclass
    and mode = 'AccessExclusiveLock' and granted}) == 1 }, timeout => 10, desc => 'lock'),
    'positions is locked');
my $t0 = time;
my %during = (n => 20_000, devices => 1000, seed => 42, base_ms => 1_900_000_000_000);
my $publisher = fork // die "fork: $!";
if ($publisher == 0) {
	Harness::gen(redis => $r, %during, rate => 1000);
	POSIX::_exit(0);
}
my (%peak, $read_mid);
while (time - $t0 < $LOCK_S - 2) {
	for my $pid (@pids) {
		my $kb = rss_kb($pid);
		$peak{$pid} = $kb if $kb > ($peak{$pid} // 0);
	}
	$read_mid //= do { my %g = @{$r->cmd('XINFO', 'GROUPS', $S)->[0]}; $g{'entries-read'} }
	    if time - $t0 > $LOCK_S / 2;
	sleep 0.5;
}
my %g = @{$r->cmd('XINFO', 'GROUPS', $S)->[0]};
cmp_ok($g{'entries-read'} - $read_mid, '<=', 2 * 500,
    'no more than max_inflight batches read in the second half of the lock');
cmp_ok($r->xlen($S) - $g{'entries-read'}, '>', 5_000, 'the backlog waits in Redis (lag grows)');
for my $pid (@pids) {
	my $growth = $peak{$pid} - $rss0{$pid};
	cmp_ok($growth, '<=', $RSS_GROWTH_KB, "process $pid: RSS grew by $growth KiB at most while stalled");
	if (defined $RSS_MAX_KB) {
		cmp_ok($peak{$pid}, '<=', $RSS_MAX_KB, "process $pid: peak RSS $peak{$pid} KiB under the bound");
	}
}
waitpid($publisher, 0);
waitpid($locker, 0);
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $warm->{valid} + 20_000
    && $r->pending($S, 'processor') == 0 }, timeout => 120, desc => 'recovered'),
    'lag recovers: every record stored after the lock, nothing pending');
Harness::expect_rows($pg, [$warm, Harness::gen_plan(%during)],
    name => 'every record stored once, column by column');
is(eval { $r->xlen("$S:dlq") } // 0, 0, 'lock timeouts were retried, never dead-lettered');
ok($p->wait_event(sqlstate => '55P03', timeout => 1), 'lock timeouts seen and retried (SQLSTATE 55P03)');
is($p->stop, 0, 'clean exit');
done_testing;
