#!/usr/bin/perl
# /readyz says 503 with a reason while PostgreSQL is down and 200 once it is back.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use HTTP::Tiny;
use JSON::PP;

my ($r, $pg, $p) = Harness::stack(ready => 60,
    config => { processor => { workers => 2 } });
my $http = HTTP::Tiny->new(timeout => 10);
my $url = 'http://127.0.0.1:' . $p->http_port . '/readyz';
is($http->get($url)->{status}, 200, '200 while everything is up');

$pg->stop('fast');
# A worker notices PostgreSQL is gone when it next talks to it: keep records coming.
Harness::gen(redis => $r, n => 200, devices => 10);
my $res;
ok(wait_until(sub { $res = $http->get($url); $res->{status} == 503 }, timeout => 60,
    desc => '503'), '503 while PostgreSQL is down');
like($res->{headers}{'content-type'}, qr{^application/json}, 'JSON body');
my $j = eval { decode_json($res->{content}) } // {};
is($j->{ready}, JSON::PP::false, '"ready": false');
like($j->{reason} // '', qr/^worker \d+: postgres down$/, "reason names the worker and PostgreSQL ($j->{reason})");
is($http->get('http://127.0.0.1:' . $p->http_port . '/healthz')->{status}, 200,
    '/healthz stays 200: the master runs');

$pg->start;
ok(wait_until(sub { $http->get($url)->{status} == 200 }, timeout => 90, desc => '200 again'),
    '200 again after PostgreSQL is back');
is($p->stop, 0, 'clean stop');
done_testing;
