#!/usr/bin/perl
# A worker that exits 2 ("cannot work with this configuration") is not restarted: the master exits 78.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;

my ($r, $pg) = Harness::stack(ready => 0);
my $p = Harness::Processor->start(redis => $r, pg => $pg, expect_critical => 1,
    env => { PROCESSOR_FAULT => 'exit_permanent' },
    config => { processor => { workers => 3 } });
my $rc = $p->wait_exit(60);
SKIP: {
	skip 'built without fault injection', 3
	    unless $p->wait_log(qr/fault injection: exit_permanent/, 0.1, quiet => 1);
	is($rc, 78, 'exit 78 (EX_CONFIG)');
	ok($p->wait_log(qr/"level":"critical".*worker \d+ cannot run with this configuration; stopping all workers/, 1),
	    'a clear critical line');
	ok(!$p->wait_log(qr/restarts in \d+ ms/, 0.1, quiet => 1), 'no restart was scheduled');
}
ok(!(grep { Harness::pid_alive($_) } $p->group_pids), 'no process left');
$p->check_log;
done_testing;
