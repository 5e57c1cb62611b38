#!/usr/bin/perl
# Issue 14: with the default window ([processor] max_future_ms 300000, max_past_days 3650) a
# record dated in the far future (year 9998, one hour ahead) or far past (GPS week rollover:
# 1024 weeks back) is dead-lettered with reason ts_out_of_window; records inside the window,
# at both ends, are stored unchanged.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);
use POSIX qw(strftime);

my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { redis => { consumer_prefix => 'win', block_ms => 200 },
        processor => { workers => 1, max_future_ms => undef, max_past_days => undef } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');

my $now = int(time) * 1000;
sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0] / 1000)) }
sub rec { my ($dev, $ts) = @_; qq({"device_id":"$dev","timestamp":$ts,"latitude":45.5,"longitude":15.25}) }

my %good = (
	'win-now'      => $now,
	'win-ahead60s' => $now + 60_000,
	'win-3000d'    => $now - 3000 * 86_400_000,
);
my %bad = (
	'win-9998'     => '"9998-01-01T00:00:00Z"',
	'win-ahead1h'  => $now + 3_600_000,
	'win-rollover' => '"' . iso($now - 1024 * 7 * 86_400_000) . '"',
	'win-4000d'    => $now - 4000 * 86_400_000,
);
my (%id, %payload);
for my $d (sort(keys %good), sort(keys %bad)) {
	my $ts = $good{$d} // $bad{$d};
	$payload{$d} = rec($d, $ts);
	$id{$d} = $r->cmd('XADD', $S, '*', 'payload', $payload{$d});
}
ok(wait_until(sub { $r->xlen("$S:dlq") >= keys(%bad) && $r->pending($S, 'processor') == 0 },
    timeout => 30, desc => 'settled'), 'every entry settled');

my $dlq = Harness::expect_dlq($r, { map { $id{$_} => [$payload{$_}, 'ts_out_of_window'] } keys %bad },
    name => 'only the records outside the window are dead-lettered');
for my $d (sort keys %bad) {
	like($dlq->{$id{$d}}{error} // '', $d =~ /9998|ahead/
	    ? qr/ahead of the clock \(max_future_ms\)/ : qr/days in the past \(max_past_days\)/,
	    "$d: error names the limit");
}
Harness::expect_rows($pg, [], extra => [map { $payload{$_} } sort keys %good],
    name => 'the records inside the window are stored, column by column');
ok($p->wait_event(entry => $id{'win-ahead1h'}, reason => 'ts_out_of_window', timeout => 5),
    'the dead letter is logged with entry and reason');
is($p->stop, 0, 'clean exit');
done_testing;
