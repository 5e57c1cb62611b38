#!/usr/bin/perl
# A worker that crashes on start every time: the master gives up with a clear line and exit 70.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;

my ($r, $pg) = Harness::stack(ready => 0);
my $p = Harness::Processor->start(redis => $r, pg => $pg, expect_critical => 1,
    env => { PROCESSOR_FAULT => 'crash_on_start' },
    config => { processor => { workers => 2, max_restarts => 4, restart_window_ms => 60000 } });
my $rc = $p->wait_exit(60);
SKIP: {
	skip 'built without fault injection', 3
	    if defined $rc && $rc == 0 && !$p->wait_log(qr/fault injection/, 0.1, quiet => 1);
	is($rc, 70, 'exit 70 (EX_SOFTWARE): crash loop');
	my ($crit) = grep { ($_->{level} // '') eq 'critical' && $_->{process} eq 'master' } $p->log_lines;
	like($crit->{message} // '', qr/workers are crash-looping: more than 4 restarts within 60000 ms; giving up/,
	    'one clear critical line from the master');
	my $deaths = 0;
	for ($p->log_lines) {
		last if ($_->{level} // '') eq 'critical' && $_->{process} eq 'master';
		$deaths++ if ($_->{message} // '') =~ /^worker \d+ \(pid \d+\) (was killed by signal 6|exited with code 3)/;
	}
	is($deaths, 5, 'gave up on the fifth unexpected death (max_restarts 4)');
}
ok(!(grep { Harness::pid_alive($_) } $p->group_pids), 'no process left');
$p->check_log;
done_testing;
