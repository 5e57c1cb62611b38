#!/usr/bin/perl
# Issue 14 (defect 6): a row refused with a non-data error class (a trigger raising P0001)
# is isolated like a data error and dead-lettered with its SQLSTATE; the worker does not
# retry it forever.  When every row fails (a trigger refusing all of them), the write
# circuit opens after circuit_failures dead letters: consuming pauses, /readyz says 503
# with the reason, and once the trigger is dropped every remaining record is stored.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness qw(wait_until);

my $N = 3;
my ($r, $pg) = Harness::stack(ready => 0);
my $S = 'telemetry:t';
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { redis => { consumer_prefix => 'cb', block_ms => 200, batch_size => 40 },
        processor => { workers => 1, circuit_failures => $N } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');

sub rec { my ($dev, $ts) = @_; qq({"device_id":"$dev","timestamp":$ts,"latitude":45.5,"longitude":15.25}) }
my $dlq = sub { [ map { +{ @{$_->[1]} } } @{$r->cmd('XRANGE', "$S:dlq", '-', '+')} ] };
my $rows = sub { $pg->psql("select count(*) from positions where device_id like '$_[0]%'") };

# One row refused by a trigger.
$pg->psql(q{create function refuse_one() returns trigger language plpgsql as $$
begin if new.device_id = 'one-bad' then raise exception 'refused by trigger'; end if;
return new; end $$});
$pg->psql(q{create trigger refuse before insert on positions for each row execute function refuse_one()});
my $ts = 1_700_000_000_000;
my ($bad_id, $n) = (undef, 0);
for my $i (1 .. 20) {
	my $dev = $i == 11 ? 'one-bad' : 'one-ok';
	my $id = $r->cmd('XADD', $S, '*', 'payload', rec($dev, $ts + $i * 1000));
	$bad_id = $id if $i == 11;
}
ok(wait_until(sub { @{$dlq->()} >= 1 && $r->pending($S, 'processor') == 0 }, timeout => 30,
    desc => 'settled'), 'the batch settles: no endless retry');
my $d = $dlq->();
is(scalar @$d, 1, 'exactly one dead letter');
is($d->[0]{id}, $bad_id, 'for the refused row');
is($d->[0]{sqlstate}, 'P0001', 'with its SQLSTATE');
like($d->[0]{error}, qr/refused by trigger/, 'and the trigger message');
is($rows->('one-ok'), 19, 'the other rows are stored');
is($p->readyz->{status}, 200, 'ready: one bad row does not open the circuit');

# Every row refused: the circuit opens after N dead letters.
$pg->psql(q{create or replace function refuse_one() returns trigger language plpgsql as $$
begin raise exception 'schema change refuses everything'; end $$});
my @ids = map { $r->cmd('XADD', $S, '*', 'payload', rec("all-$_", $ts)) } 1 .. 100;
my $ready;
ok(wait_until(sub { $ready = $p->readyz; $ready->{status} == 503 }, timeout => 60,
    desc => '503'), '/readyz 503 while the circuit is open');
like($ready->{reason}, qr/write circuit open/, "the reason says so ($ready->{reason})");
ok($p->wait_event(failed_rows => $N, sqlstate => 'P0001', timeout => 10),
    'the opening is logged with the failed rows and the SQLSTATE');
ok(wait_until(sub { ($p->metric_sum($p->metrics, 'processor_write_circuit_open_total') // 0) >= 1 },
    timeout => 10, desc => 'metric'), 'processor_write_circuit_open_total counts it');
my $letters = sub { [ grep { $_->{id} ne $bad_id } @{$dlq->()} ] };
sleep 3;
cmp_ok(scalar @{$letters->()}, '<=', $N, 'at most N dead letters while the circuit is open');
my $stored_open = $rows->('all-');
sleep 2;
is($rows->('all-'), $stored_open, 'nothing stored while every row fails');

$pg->psql('drop trigger refuse on positions');
ok(wait_until(sub { $r->pending($S, 'processor') == 0 && $rows->('all-') + @{$letters->()} == 100 },
    timeout => 90, desc => 'all stored'), 'after the trigger is dropped every remaining record is stored');
my @l = @{$letters->()};
cmp_ok(scalar @l, '<=', $N, "at most $N dead letters in all (" . scalar(@l) . ')');
is((grep { ($_->{sqlstate} // '') ne 'P0001' } @l), 0, 'each with SQLSTATE P0001');
is($rows->('all-') + @l, 100, 'nothing lost: stored + dead-lettered = published');
ok(wait_until(sub { $p->readyz->{status} == 200 }, timeout => 30, desc => '200'),
    '/readyz 200 again');
ok($p->wait_event(message => qr/write circuit closed/, timeout => 5), 'the closing is logged');
is($p->stop, 0, 'clean exit');
done_testing;
