#!/usr/bin/perl
# HTTP limits: idle and slow connections, huge headers and floods cannot block the master.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use HTTP::Tiny;
use IO::Socket::INET;
use Time::HiRes qw(time);

my ($r, $pg, $p) = Harness::stack(ready => 60, notify => 1,
    env => { WATCHDOG_USEC => 1_000_000 },
    config => { processor => { workers => 1 } });
my $port = $p->http_port;

sub get_from
{
	my ($local, $path) = @_;
	my $t = time;
	my $res = HTTP::Tiny->new(timeout => 5, local_address => $local)
	    ->get("http://127.0.0.1:$port$path");
	return ($res, time - $t);
}

# Slowloris: 40 connections from 127.0.0.1 that send half a request line and wait.
my @idle;
for (1 .. 40) {
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", LocalAddr => '127.0.0.1',
	    Timeout => 5) or last;
	print $s "GET /metr";
	push @idle, $s;
}
cmp_ok(scalar @idle, '>=', 32, 'opened the slow connections');
my ($res, $dt) = get_from('127.0.0.2', '/healthz');
is($res->{status}, 200, '/healthz from another address is served meanwhile');
cmp_ok($dt, '<', 2, 'promptly');
my $before = grep { /^WATCHDOG=1$/ } $p->notify_messages;
ok(wait_until(sub { (grep { /^WATCHDOG=1$/ } $p->notify_messages) > $before + 1 }, timeout => 5,
    desc => 'watchdog'), 'the master loop keeps turning (WATCHDOG=1)');

# The server drops them after its 10 s connection timeout.
my $closed = wait_until(sub {
	my $n = 0;
	for my $s (@idle) {
		my $rin = '';
		vec($rin, fileno($s), 1) = 1;
		if (select(my $rout = $rin, undef, undef, 0) > 0) {
			my $got = sysread($s, my $buf, 4096);
			$n++ if defined $got && $got == 0 || !defined $got;
		}
	}
	return $n == @idle;
}, timeout => 20, interval => 0.5, desc => 'idle connections closed');
ok($closed, 'slow connections are closed by the server timeout');
close $_ for @idle;
($res) = get_from('127.0.0.1', '/healthz');
is($res->{status}, 200, 'and 127.0.0.1 is served again');

# Huge headers: refused (431) and closed, nothing buffered beyond the per-connection limit.
{
	local $SIG{PIPE} = 'IGNORE';
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or die;
	$s->blocking(0);
	my $data = "GET /metrics HTTP/1.1\r\nHost: x\r\n"
	    . join('', map { "X-Fill-$_: " . ('a' x 1000) . "\r\n" } 1 .. 200) . "\r\n";
	my ($off, $reply, $eof) = (0, '', 0);
	wait_until(sub {
		if ($off < length $data) {
			my $n = syswrite($s, $data, 65536, $off);
			$off += $n if defined $n;
		}
		my $n = sysread($s, my $buf, 65536);
		$reply .= $buf if $n;
		$eof = 1 if defined $n && $n == 0;
		return $eof;
	}, timeout => 15, interval => 0.02, desc => 'huge-header connection closed');
	like($reply, qr{^HTTP/1\.[01] 431 }, 'a 200 KB header block gets 431');
	ok($eof && $off < length $data, 'and the connection is closed before it is all sent');
	close $s;
}

# Many requests in a row stay bounded in memory.
sub rss_kb { open(my $fh, '<', "/proc/$_[0]/status") or return 0; while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ } 0 }
my $rss0 = rss_kb($p->pid);
my $http = HTTP::Tiny->new(timeout => 5);
my $fail = 0;
for (1 .. 300) {
	$fail++ unless $http->get($p->metrics_url)->{status} == 200;
}
is($fail, 0, '300 /metrics requests served');
SKIP: {
	skip 'RSS is meaningless under AddressSanitizer (quarantine)', 1
	    if `ldd $p->{binary} 2>/dev/null` =~ /libasan/;
	cmp_ok(rss_kb($p->pid) - $rss0, '<', 8192, 'master RSS grew by less than 8 MB');
}
is($p->stop, 0, 'clean stop');
done_testing;
