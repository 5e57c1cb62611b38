#!/usr/bin/perl
# processorctl drain/resume stop and restart consumption; pending matches XPENDING; claim takes a
# stranded consumer's entries now.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness;
use CtlTest;
use Time::HiRes qw(time sleep);

Harness::need('gen');
my $S = 'telemetry:t';
my ($r, $pg) = Harness::stack(ready => 0);
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { processor => { workers => 2 }, redis => { block_ms => 200 } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
my $rows = sub { $pg->psql('select count(*) from positions') };

my $s1 = Harness::gen(redis => $r, n => 300, devices => 5, seed => 1);
ok(wait_until(sub { $rows->() == $s1->{valid} }, timeout => 60), 'first rows landed');

# drain: both workers stop reading, readiness says why
my ($rc, $j, $out, $err) = ctl_json($p, 'drain');
is($rc, 0, 'drain exit 0') or diag($err);
ok($j->{draining}, 'draining true');
is($j->{workers}, 2, 'both workers told');
ok(wait_until(sub {
	my (undef, $st) = ctl_json($p, 'status');
	return $st && !$st->{ready} && ($st->{not_ready} // '') =~ /draining/ &&
	    2 == grep { $_->{draining} } @{$st->{workers}};
}, timeout => 10), 'status: not ready, both workers draining');
($rc, $out) = ctl($p, 'status');
like($out, qr/^draining: yes/m, 'human status says draining');
like($out, qr/^state:\s+running, not ready \(worker \d: draining\)$/m, 'human: why not ready');

# publish during the drain: the stream grows, the table does not
my $s2 = Harness::gen(redis => $r, n => 300, devices => 5, seed => 2, base_ms => 1_900_000_000_000);
my $held = $rows->();
is($held, $s1->{valid}, 'nothing new yet');
my $deadline = time + 1.5;	# an observation window, not a synchronisation
my $moved = 0;
while (time < $deadline) {
	$moved = 1 if $rows->() != $held;
	sleep 0.1;
}
ok(!$moved, 'no row written while drained');

# claim is refused while drained
($rc, $j) = ctl_json($p, 'claim');
is($rc, 1, 'claim while drained: exit 1');
like($j->{error}, qr/drained/, 'says drained');

# a stranded consumer: read 5 entries as "ghost" and never ack them
my $ghost = $r->cmd('XREADGROUP', 'GROUP', 'processor', 'ghost', 'COUNT', 5, 'STREAMS', $S, '>');
is(scalar @{$ghost->[0][1]}, 5, 'ghost holds 5 entries');
my $xp = $r->cmd('XPENDING', $S, 'processor');
($rc, $j) = ctl_json($p, 'pending');
is($rc, 0, 'pending exit 0');
is($j->{count}, $xp->[0], 'count == XPENDING count');
is($j->{min}, $xp->[1], 'min id');
is($j->{max}, $xp->[2], 'max id');
my %per = map { $_->[0] => $_->[1] } @{$xp->[3]};
is_deeply({ map { $_->{name} => $_->{pending} } @{$j->{consumers}} }, \%per, 'per-consumer counts');
my ($g) = grep { $_->{name} eq 'ghost' } @{$j->{consumers}};
is(scalar @{$g->{oldest}}, 5, 'oldest entries of ghost listed');
is($g->{oldest}[0]{id}, $ghost->[0][1][0][0], 'oldest first');
is($g->{oldest}[0]{deliveries}, 1, 'delivered once');
ok(defined $g->{oldest}[0]{idle_ms}, 'idle time given');
($rc, $j) = ctl_json($p, 'pending', '--count', '2');
($g) = grep { $_->{name} eq 'ghost' } @{$j->{consumers}};
is(scalar @{$g->{oldest}}, 2, '--count 2 limits the list');
($rc, $out) = ctl($p, 'pending');
is($rc, 0, 'pending human: exit 0');
like($out, qr/^stream \Q$S\E, group processor: $xp->[0] pending \(ids \Q$xp->[1]\E \.\. \Q$xp->[2]\E\)/m, 'human: summary');
like($out, qr/^ghost\s+5$/m, 'human: consumer row');
like($out, qr/^ghost\s+\Q$ghost->[0][1][0][0]\E\s+\d+\s+1$/m, 'human: oldest row');

# resume: the rest lands; the ghost's five stay pending (claim_idle_ms is a minute)
($rc, $j) = ctl_json($p, 'resume');
is($rc, 0, 'resume exit 0');
ok(!$j->{draining}, 'draining false');
ok(wait_until(sub { $rows->() == $s1->{valid} + $s2->{valid} - 5 }, timeout => 60),
    'all but the ghost\'s entries landed after resume');
ok(wait_until(sub { (ctl_json($p, 'status'))[1]{ready} }, timeout => 10), 'ready again');
ok(wait_until(sub { $r->pending($S, 'processor') == 5 }, timeout => 30), 'the ghost\'s 5 still pending');

# claim now, with a short idle: the workers take them over and write them
ok(wait_until(sub { @{$r->cmd('XPENDING', $S, 'processor', 'IDLE', 1500, '-', '+', 10)} == 5 },
    timeout => 10), 'the ghost\'s entries are idle for 1.5 s');
($rc, undef, $err) = ctl($p, 'claim', '--idle', '100');
is($rc, 2, '--idle below 1000 ms: usage error');
($rc, $j, $out, $err) = ctl_json($p, 'claim', '--idle', '1000');
is($rc, 0, 'claim exit 0') or diag($err);
is($j->{claimed}, 5, 'five claimed');
is($j->{idle_ms}, 1000, 'with the idle given');
is($j->{workers_asked}, 2, 'both workers swept');
is($j->{workers_unanswered}, 0, 'both finished');
ok(wait_until(sub { $rows->() == $s1->{valid} + $s2->{valid} }, timeout => 30), 'claimed entries written');
ok(wait_until(sub { $r->pending($S, 'processor') == 0 }, timeout => 30), 'nothing pending');
($rc, $out) = ctl($p, 'claim');
is($rc, 0, 'claim again (configured idle): exit 0');
like($out, qr/^claimed 0 entries idle for at least 60000 ms; 2 workers asked$/m, 'human: nothing to claim');
($rc, $out) = ctl($p, 'pending');
like($out, qr/: 0 pending\b/m, 'human: 0 pending');

# a worker respawned while drained is drained as well
($rc, $out) = ctl($p, 'drain');
like($out, qr/^draining: 2 workers told to stop reading new entries$/m, 'human: drain');
my (undef, $st) = ctl_json($p, 'workers');
my $victim = $st->{workers}[0]{pid};
kill 'KILL', $victim;
ok(wait_until(sub {
	my (undef, $w) = ctl_json($p, 'workers');
	my $x = $w->{workers}[0];
	return $x->{pid} && $x->{pid} != $victim && $x->{state} eq 'running' && $x->{draining};
}, timeout => 30), 'the replacement came up drained');
($rc, $out) = ctl($p, 'resume');
like($out, qr/^resumed: 2 workers told to read again$/m, 'human: resume');
ok(wait_until(sub { (ctl_json($p, 'status'))[1]{ready} }, timeout => 20), 'ready after resume');
$p->{expect_critical} = 0;
is($p->stop, 0, 'clean exit');
done_testing;
