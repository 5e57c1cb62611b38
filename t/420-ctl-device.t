#!/usr/bin/perl
# processorctl device: the freshest fix from the workers' memory; after a restart, the last row from PostgreSQL.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness;
use CtlTest;

Harness::need('gen');
my ($r, $pg) = Harness::stack(ready => 0);
my %cfg = (redis => $r, pg => $pg, config => { processor => { workers => 2 }, redis => { block_ms => 200 } });
my $p = Harness::Processor->start(%cfg);
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');

my $sum = Harness::gen(redis => $r, n => 600, devices => 6);
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $sum->{valid} }, timeout => 60),
    'rows landed');
my $dev = $pg->psql('select device_id from positions order by device_id limit 1');
my ($ts, $lat, $lon, $n) = split /\|/, $pg->psql(qq{select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), latitude, longitude, 0 from positions where device_id = '$dev' order by ts desc limit 1});
my $count = $pg->psql(qq{select count(*) from positions where device_id = '$dev'});

my ($rc, $j, $out, $err) = ctl_json($p, 'device', $dev);
is($rc, 0, 'device --json exit 0') or diag($err);
ok($j->{in_memory}, 'in memory');
is($j->{device}, $dev, 'device named');
is($j->{last}{ts}, $ts, 'the freshest fix time, as stored');
cmp_ok(abs($j->{last}{latitude} - $lat), '<', 1e-9, 'latitude');
cmp_ok(abs($j->{last}{longitude} - $lon), '<', 1e-9, 'longitude');
is($j->{records}, $count, 'records seen == rows of the device');
like($j->{last_seen}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'last_seen is ISO-8601');
is($j->{workers_asked}, 2, 'both workers asked');
is($j->{workers_unanswered}, 0, 'both answered');
ok(defined $j->{worker}, 'names the worker holding it');
($rc, $out) = ctl($p, 'device', $dev);
is($rc, 0, 'device exit 0');
like($out, qr/^device \Q$dev\E: in memory of worker \d+$/m, 'human: header');
like($out, qr/^\s+ts\s+\Q$ts\E$/m, 'human: ts');
like($out, qr/^\s+records\s+$count$/m, 'human: records');

# unknown everywhere
($rc, $j) = ctl_json($p, 'device', 'no-such-device');
is($rc, 0, 'unknown device: exit 0');
ok(!$j->{in_memory}, 'not in memory');
ok(exists $j->{database} && !defined $j->{database}, 'no database row');
($rc, $out) = ctl($p, 'device', 'no-such-device');
like($out, qr/^device no-such-device: not in memory\nno row in PostgreSQL$/m, 'human: says both');

# a restarted daemon has an empty memory: the answer comes from PostgreSQL
is($p->stop, 0, 'stop');
$p = Harness::Processor->start(%cfg);
ok($p->wait_ready(60), 'restarted');
ok(wait_until(sub { -S $p->control_socket }, timeout => 10), 'socket back');
($rc, $j, $out, $err) = ctl_json($p, 'device', $dev);
is($rc, 0, 'device after restart: exit 0') or diag($err);
ok(!$j->{in_memory}, 'not in memory');
is($j->{database}{device_id}, $dev, 'database row of the device');
cmp_ok(abs($j->{database}{latitude} - $lat), '<', 1e-9, 'its latitude is the freshest');
like($j->{database}{ts}, qr/^\Q${\substr($ts, 0, 19)}\E/, 'its time is the freshest');
($rc, $out) = ctl($p, 'device', $dev);
like($out, qr/^device \Q$dev\E: not in memory\nlast row in PostgreSQL:\n\s+device_id\s+\Q$dev\E$/m, 'human: header and row');

# PostgreSQL down as well: a clear error (exit 1), master unharmed
$pg->stop;
($rc, $j) = ctl_json($p, 'device', $dev);
is($rc, 1, 'not in memory and PostgreSQL down: exit 1');
like($j->{error}, qr/PostgreSQL/, 'the error names PostgreSQL');
ok($p->running, 'master still running');
$pg->start;
is($p->stop, 0, 'clean exit');
done_testing;
