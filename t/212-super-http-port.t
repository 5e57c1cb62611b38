#!/usr/bin/perl
# [http] listen on a port another program holds: exit 75 with one error line that names the key.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use IO::Socket::INET;

my ($r, $pg) = Harness::stack(ready => 0);
my $port = Harness::free_port();
my $holder = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 1,
    ReuseAddr => 1, Proto => 'tcp') or die "cannot hold port $port: $!\n";

my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { http => { listen => "127.0.0.1:$port" } });
my $rc = $p->wait_exit(60);
is($rc, 75, 'exit 75 (EX_TEMPFAIL) when the HTTP port is taken');
my $line = $p->wait_log(sub { $_->{level} eq 'error' && $_->{message} =~ /^\[http\] listen/ }, 1);
is($line && $line->{message}, "[http] listen = 127.0.0.1:$port: address in use",
    'the error names the key, the value and the cause');
ok(!(grep { Harness::pid_alive($_) } $p->group_pids), 'no process left');
close $holder;
$p->check_log;
done_testing;
