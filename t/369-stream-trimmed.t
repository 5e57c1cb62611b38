#!/usr/bin/perl
# Issue 14 (defect 12): entries trimmed (MAXLEN / XTRIM) before processor reads them are lost
# upstream, but not without a trace: the master counts them from XINFO GROUPS / XINFO STREAM
# (Redis 7) in processor_stream_trimmed_unread_total and logs an error; the lag gauge does not
# keep them as work still to do.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';
my %cf = (config => { redis => { consumer_prefix => 'tr', block_ms => 200 },
    processor => { workers => 1 } });
sub rec { qq({"device_id":"tr-$_[0]","timestamp":1700000000000,"latitude":45.5,"longitude":15.25}) }
my $rows = sub { $pg->psql('select count(*) from positions') };

my $p = Harness::Processor->start(redis => $r, pg => $pg, %cf);
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
$r->cmd('XADD', $S, '*', 'payload', rec($_)) for 1 .. 10;
ok(wait_until(sub { $rows->() == 10 && $r->pending($S, 'processor') == 0 }, timeout => 20,
    desc => 'first 10'), 'the first 10 are stored');
is($p->stop, 0, 'stopped');

# 50 more while nobody reads; trim to 20: 10 read + 30 unread entries go.
$r->cmd('XADD', $S, '*', 'payload', rec($_)) for 11 .. 60;
is($r->cmd('XTRIM', $S, 'MAXLEN', 20), 40, 'XTRIM removed 40 entries, 30 of them unread');

$p = Harness::Processor->start(redis => $r, pg => $pg, %cf);
ok($p->wait_ready(60), 'processor ready again');
ok(wait_until(sub { $rows->() == 30 && $r->pending($S, 'processor') == 0 }, timeout => 20,
    desc => 'rest stored'), 'the 20 left are stored');
my $m;
ok(wait_until(sub { $m = $p->metrics; defined $m->{processor_stream_trimmed_unread_total}
    && $m->{processor_stream_trimmed_unread_total} == 30 }, timeout => 20, desc => 'counter'),
    'processor_stream_trimmed_unread_total equals the number lost (30)')
    or diag('got ' . ($m->{processor_stream_trimmed_unread_total} // 'none'));
ok($p->wait_event(trimmed_unread_total => 30, timeout => 5), 'an error line says how many');
ok(wait_until(sub { ($p->metrics->{processor_consumer_group_lag} // -1) == 0 }, timeout => 15,
    desc => 'lag 0'), 'the lag gauge does not count them as work to do');
is($p->stop, 0, 'clean exit');
done_testing;
