#!/usr/bin/perl
# Issue 14 (defect 14): slowloris on /metrics.  Clients that send a byte every two seconds
# from two loopback addresses never trip the 10 s inactivity timeout, and 2 x 32 of them hold
# every HTTP slot.  Each request has an absolute deadline (HTTP_DEADLINE_SEC, 10 s): the slow
# clients are cut there, and a normal scrape is answered again.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use HTTP::Tiny;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my $DEADLINE = 10;
my ($r, $pg, $p) = Harness::stack(ready => 60, config => { processor => { workers => 1 } });
my $port = $p->http_port;
local $SIG{PIPE} = 'IGNORE';

my @slow;
my $t0 = time;
for my $addr ('127.0.0.1', '127.0.0.2') {
	for (1 .. 32) {
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", LocalAddr => $addr,
		    Timeout => 5) or last;
		$s->blocking(0);
		syswrite($s, "GET /metrics HTTP/1.1\r\nX-Slow: ");
		push @slow, { s => $s, open => 1 };
	}
}
cmp_ok(scalar @slow, '>=', 60, 'the slow clients hold the slots (' . scalar(@slow) . ')');

# Trickle a byte every 2 s to each; note when the server has closed them all.
my $all_closed;
while (time - $t0 < $DEADLINE + 8) {
	my $open = 0;
	for my $c (grep { $_->{open} } @slow) {
		my $n = sysread($c->{s}, my $buf, 4096);
		if (defined $n && $n == 0 || !defined $n && !$!{EAGAIN}) {
			$c->{open} = 0;
			next;
		}
		$open++;
	}
	if (!$open) { $all_closed = time - $t0; last }
	for my $c (grep { $_->{open} } @slow) {
		syswrite($c->{s}, 'a') // ($c->{open} = 0);
	}
	sleep 2;
}
ok(defined $all_closed, sprintf('every slow client is cut (%s s)', $all_closed // 'never'));
cmp_ok($all_closed // 99, '<=', $DEADLINE + 3, "within the $DEADLINE s deadline (+ 3 s)");
cmp_ok($all_closed // 0, '>=', $DEADLINE - 1, 'not before it');
my $res = HTTP::Tiny->new(timeout => 5, local_address => '127.0.0.1')->get($p->metrics_url);
is($res->{status}, 200, 'a normal scrape is answered');
like($res->{content}, qr/^processor_worker_up/m, 'with the metrics');
close $_->{s} for @slow;
is($p->stop, 0, 'clean stop');
done_testing;
