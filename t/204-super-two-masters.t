#!/usr/bin/perl
# Two masters start at the same instant on an empty database: both run, rows land once.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;

my ($r, $pg) = Harness::stack(ready => 0);
my @p = map {
	Harness::Processor->start(redis => $r, pg => $pg,
	    config => { processor => { workers => 2 }, redis => { consumer_prefix => "host$_" } })
} (1, 2);
ok($p[0]->wait_ready(60), 'first master ready');
ok($p[1]->wait_ready(60), 'second master ready');
ok($p[0]->running && $p[1]->running, 'both still run');
is($pg->psql("select count(*) from processor_schema_migrations"),
    $pg->psql("select count(distinct version) from processor_schema_migrations"),
    'each migration recorded once');
my $sum = Harness::gen(redis => $r, n => 20_000, devices => 100);
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $sum->{valid} },
    timeout => 120, desc => 'rows'), 'every row landed');
is($p[0]->stop, 0, 'first stops cleanly');
is($p[1]->stop, 0, 'second stops cleanly');
done_testing;
