#!/usr/bin/perl
# sd_notify: STATUS while starting, READY=1 once every worker is consuming, WATCHDOG=1, STOPPING=1, in order.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;

my ($r, $pg) = Harness::stack(ready => 0);
my $p = Harness::Processor->start(redis => $r, pg => $pg, notify => 1,
    env => { WATCHDOG_USEC => 1_000_000 },
    config => { processor => { workers => 2 } });
ok($p->wait_notify(qr/^READY=1/m, 60), 'READY=1');
ok($p->wait_log(qr/all 2 workers are ready/, 5), 'logged when ready');
ok(wait_until(sub { (grep { /^WATCHDOG=1$/ } $p->notify_messages) >= 3 }, timeout => 10,
    desc => 'watchdog'), 'WATCHDOG=1 every WATCHDOG_USEC/2');
ok(wait_until(sub { grep { /^STATUS=running: 2\/2 workers ready/ } $p->notify_messages },
    timeout => 15, desc => 'status'), 'periodic STATUS= line');
# A wedged worker no longer withholds the watchdog: t/367-worker-stall.t.
is($p->stop, 0, 'clean stop');
my @n = $p->notify_messages;
my ($status0) = grep { $n[$_] =~ /^STATUS=starting/ } 0 .. $#n;
my ($ready) = grep { $n[$_] =~ /^READY=1/m } 0 .. $#n;
my ($stopping) = grep { $n[$_] =~ /^STOPPING=1/m } 0 .. $#n;
ok(defined $status0 && defined $ready && defined $stopping
    && $status0 < $ready && $ready < $stopping, 'STATUS=starting < READY=1 < STOPPING=1')
    or diag(explain \@n);
done_testing;
