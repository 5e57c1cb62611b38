#!/usr/bin/perl
# processorctl dlq list/show/replay/purge round trip with real poison, in both output forms.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness;
use CtlTest;

Harness::need('gen');
my $S = 'telemetry:t';
my $D = "$S:dlq";
my ($r, $pg) = Harness::stack(ready => 0);
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { processor => { workers => 2 }, redis => { block_ms => 200 } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');

# an empty DLQ first
my ($rc, $j, $out, $err) = ctl_json($p, 'dlq', 'list');
is($rc, 0, 'dlq list on an empty queue: exit 0') or diag($err);
is($j->{total}, 0, 'total 0');
is_deeply($j->{entries}, [], 'no entries');

# poison from gen, a record only PostgreSQL refuses, an entry without payload
$pg->psql(q{alter table positions add constraint ctl_check check (device_id <> 'refused-by-check')});
my $sum = Harness::gen(redis => $r, n => 400, devices => 10, poison => 20);
my $refused = q({"device_id":"refused-by-check","timestamp":"2026-05-01T10:00:00Z","latitude":45.1,"longitude":15.9,"attributes":{}});
my $refused_id = $r->cmd('XADD', $S, '*', 'payload', $refused);
my $nopay_id = $r->cmd('XADD', $S, '*', 'v', '1');
my $binary_id = $r->cmd('XADD', $S, '*', 'payload', "{\"device_id\":\"abc\xc3\"}");
my $nbad = $sum->{poison} + 3;
ok(wait_until(sub { $r->xlen($D) == $nbad && $r->pending($S, 'processor') == 0 },
    timeout => 60, desc => 'poison dead-lettered'), "$nbad entries dead-lettered");

($rc, $j) = ctl_json($p, 'dlq', 'list', '--count', '1000');
is($rc, 0, 'dlq list --json exit 0');
is($j->{total}, $nbad, 'total == XLEN');
is(scalar @{$j->{entries}}, $nbad, 'every entry listed');
my $raw = $r->cmd('XREVRANGE', $D, '+', '-');
is_deeply([map { $_->{dlq_id} } @{$j->{entries}}], [map { $_->[0] } @$raw], 'newest first, the DLQ ids');
my %f0 = @{$raw->[0][1]};
my $e0 = $j->{entries}[0];
is($e0->{$_}, $f0{$_}, "entry field $_ as stored") for qw(id reason stage error failed_at);
ok(!exists $e0->{payload}, 'list leaves the payload out');
my ($ref) = grep { $_->{id} eq $refused_id } @{$j->{entries}};
ok($ref, 'the refused record is listed by its original id');
is($ref->{stage}, 'write', 'at the write stage');
is($ref->{reason}, 'rejected_by_postgres', 'reason');

($rc, $j) = ctl_json($p, 'dlq', 'list', '--count', '3');
is(scalar @{$j->{entries}}, 3, '--count 3 gives three');
($rc, $out) = ctl($p, 'dlq', 'list', '--count', '1000');
is($rc, 0, 'dlq list exit 0');
like($out, qr/^\Q$D\E: $nbad entries, $nbad newest shown$/m, 'human: summary line');
like($out, qr/^DLQ_ID\s+ORIG_ID\s+STAGE\s+REASON\s+FAILED_AT\s+ERROR$/m, 'human: header');
like($out, qr/^\Q$ref->{dlq_id}\E\s+\Q$refused_id\E\s+write\s+rejected_by_postgres\s/m, 'human: row');

# show
($rc, $j) = ctl_json($p, 'dlq', 'show', $ref->{dlq_id});
is($rc, 0, 'dlq show exit 0');
is($j->{entry}{payload}, $refused, 'payload as published');
is($j->{entry}{id}, $refused_id, 'original id');
like($j->{entry}{error}, qr/23514/, 'error with the SQLSTATE');
($rc, $out) = ctl($p, 'dlq', 'show', $ref->{dlq_id});
like($out, qr/^payload:\n\Q$refused\E$/m, 'human: payload printed');
like($out, qr/^reason\s+rejected_by_postgres$/m, 'human: fields');
($rc, $j, $out, $err) = ctl_json($p, 'dlq', 'show', '1-1');
is($rc, 1, 'show of a missing id: exit 1');
like($j->{error}, qr/no entry 1-1 in \Q$D\E/, 'says so');
($rc) = ctl($p, 'dlq', 'show', 'abc');
is($rc, 2, 'show of a non-id: usage error');

# a payload that is not UTF-8 comes back as hex
my ($bin) = grep { $_->{id} eq $binary_id } @{(ctl_json($p, 'dlq', 'list', '--count', '1000'))[1]{entries}};
($rc, $j) = ctl_json($p, 'dlq', 'show', $bin->{dlq_id});
is($j->{entry}{payload_hex}, unpack('H*', "{\"device_id\":\"abc\xc3\"}"), 'non-UTF-8 payload as hex');
ok(!exists $j->{entry}{payload}, 'and not as text');
($rc, $out) = ctl($p, 'dlq', 'show', $bin->{dlq_id});
like($out, qr/^payload \(hex, not UTF-8\):\n[0-9a-f]+$/m, 'human: hex payload');

# replay: the refused record now fits, so it lands; the DLQ copy goes only then
$pg->psql(q{alter table positions drop constraint ctl_check});
($rc, $j) = ctl_json($p, 'dlq', 'replay', $ref->{dlq_id});
is($rc, 0, 'replay exit 0');
is($j->{replayed}, 1, 'replayed 1');
is($j->{skipped}, 0, 'skipped 0');
ok(wait_until(sub { $pg->psql(q{select count(*) from positions where device_id = 'refused-by-check'}) == 1 },
    timeout => 30), 'the replayed record is in PostgreSQL');
is(scalar @{$r->cmd('XRANGE', $D, $ref->{dlq_id}, $ref->{dlq_id})}, 0, 'and gone from the DLQ');

# replay of an entry without payload is skipped; unknown ids too
my ($np) = grep { $_->{id} eq $nopay_id } @{(ctl_json($p, 'dlq', 'list', '--count', '1000'))[1]{entries}};
ok($np, 'the entry without payload is listed');
($rc, $j) = ctl_json($p, 'dlq', 'replay', $np->{dlq_id}, '1-1');
is($rc, 0, 'replay with nothing to do: exit 0');
is($j->{replayed}, 0, 'nothing replayed');
is($j->{skipped}, 2, 'both skipped');
my %why = map { $_->{id} => $_->{reason} } @{$j->{results}};
like($why{$np->{dlq_id}}, qr/no payload/, 'no payload: said');
like($why{'1-1'}, qr/not in the dead-letter queue/, 'unknown id: said');
($rc, $out) = ctl($p, 'dlq', 'replay', '1-1');
like($out, qr/^replayed 0, skipped 1, failed 0$/m, 'human: counts');

# replay --all: poison goes back to the stream and is dead-lettered again, under new ids
my $before = $r->xlen($D);
my $xlen = $r->xlen($S);
my $empty = grep { my %f = @{$_->[1]}; ($f{payload} // '') eq '' } @{$r->cmd('XRANGE', $D, '-', '+')};
cmp_ok($empty, '>=', 1, "$empty entries without payload");
($rc, $j) = ctl_json($p, 'dlq', 'replay', '--all');
is($rc, 0, 'replay --all exit 0');
is($j->{replayed}, $before - $empty, 'every entry with a payload replayed');
is($j->{skipped}, $empty, 'those without payload skipped');
ok(!$j->{more}, 'nothing more');
is($r->xlen($S), $xlen + $before - $empty, 'the stream grew by as many');
ok(wait_until(sub { $r->xlen($D) == $before && $r->pending($S, 'processor') == 0 },
    timeout => 60, desc => 're-dead-lettered'), 'the poison came back to the DLQ');
my %orig = map { my %f = @{$_->[1]}; ($f{id} => 1) } @{$r->cmd('XRANGE', $D, '-', '+')};
ok($orig{$nopay_id}, 'the skipped entry stayed');

# purge --before, then purge the rest
my $all = $r->cmd('XRANGE', $D, '-', '+');
my $mid = $all->[3][0];
($rc, $j) = ctl_json($p, 'dlq', 'purge', '--before', $mid);
is($rc, 0, 'purge --before exit 0');
is($j->{purged}, 3, 'the three older entries purged');
is($r->xlen($D), @$all - 3, 'XLEN agrees');
is($r->cmd('XRANGE', $D, '-', '+')->[0][0], $mid, 'the boundary entry stays');
($rc, $out) = ctl($p, 'dlq', 'purge');
is($rc, 0, 'purge exit 0');
like($out, qr/^purged ${\(@$all - 3)} entries from \Q$D\E$/m, 'human: count');
is($r->xlen($D), 0, 'DLQ empty');

# Redis gone: a clear error, exit 1, and the master lives on
$r->stop;
($rc, $j, $out, $err) = ctl_json($p, 'dlq', 'list');
is($rc, 1, 'Redis down: exit 1');
like($j->{error}, qr/Redis/i, 'the error names Redis');
$r->start;
ok(wait_until(sub { (ctl_json($p, 'dlq', 'list'))[0] == 0 }, timeout => 30), 'works again after Redis returns');
ok($p->running, 'master still running');
is($p->stop, 0, 'clean exit');
done_testing;
