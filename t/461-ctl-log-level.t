#!/usr/bin/perl
# processorctl log-level: the master and every child change level at once, a respawned
# child keeps the new level, and a reload goes back to the configured one.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use CtlTest;

my ($r, $pg, $p) = Harness::stack(ready => 60,
    config => { processor => { workers => 2, log_level => 'info' } });
my ($rows, $loads) = (0, 0);
sub load
{
	my $sum = Harness::gen(redis => $r, n => 200, devices => 5,
	    base_ms => 1_700_000_000_000 + 100_000_000 * $loads++);
	$rows += $sum->{valid};
	return wait_until(sub { $pg->psql('select count(*) from positions') == $rows },
	    timeout => 60, desc => 'rows');
}
sub lines_since
{
	my ($mark, @levels) = @_;
	my %want = map { $_ => 1 } @levels;
	return grep { $want{$_->{level} // ''} } ($p->log_lines)[$mark .. $p->mark - 1];
}

ok(load(), 'rows land at info');
my $m0 = $p->mark;
ok(load(), 'more rows');
is(scalar(lines_since($m0, 'debug')), 0, 'no debug line at info');

# debug: the master and the workers
my $m1 = $p->mark;
my ($rc, $j, undef, $err) = ctl_json($p, 'log-level', 'debug');
is($rc, 0, 'log-level debug: exit 0') or diag($err);
is($j->{level}, 'debug', 'reply names the level');
is($j->{processes}, 2, 'both workers told');
ok(load(), 'rows land at debug');
ok($p->wait_event(level => 'debug', process => qr/^worker/, timeout => 30, from => $m1),
    'a worker logs at debug');
ctl($p, 'status');
ok($p->wait_event(level => 'debug', process => 'master', message => qr/^control: .*status/,
    timeout => 10, from => $m1), 'the master logs at debug');
my ($rc2, $out) = ctl($p, 'log-level', 'info');
like($out, qr/^log level info in the master and 2 processes, until the next reload$/m,
    'human reply');

# error: nothing at info or debug any more, from anyone, a respawned worker included
($rc, $j) = ctl_json($p, 'log-level', 'error');
is($rc, 0, 'log-level error: exit 0');
# the workers read their link in order: once they answered this, they had the level
($rc) = ctl_json($p, 'device', 'no-such-device');
is($rc, 0, 'a round trip through every worker');
my $m2 = $p->mark;
my (undef, $st) = ctl_json($p, 'status');
my $victim = $st->{workers}[0];
is((ctl($p, 'drain'))[0], 0, 'drain (workers would say so at info)');
is((ctl($p, 'resume'))[0], 0, 'resume');
kill 'KILL', $victim->{pid};
ok(wait_until(sub {
	my (undef, $s) = ctl_json($p, 'status');
	my ($w) = grep { $_->{slot} == $victim->{slot} } @{$s->{workers} // []};
	return $w && $w->{pid} != $victim->{pid} && $w->{ready};
}, timeout => 60, desc => 'respawn'), "worker $victim->{slot} respawned and ready");
ok(load(), 'rows land at error');
ok(!Harness::pid_alive($victim->{pid}), 'the old worker is gone');
my @noisy = lines_since($m2, 'debug', 'info');
is(scalar @noisy, 0, 'no info or debug line after log-level error')
    or diag(join "\n", map { $_->{_line} } @noisy[0 .. ($#noisy < 4 ? $#noisy : 4)]);

# a reload goes back to the configured level
my $m3 = $p->mark;
($rc) = ctl_json($p, 'reload');
is($rc, 0, 'reload');
ok($p->wait_log(qr/reload complete/, 60, from => $m3), 'reload complete (at info again)');
ok($p->wait_event(level => 'info', process => qr/^worker/, timeout => 10, from => $m3),
    'replaced workers log at info');
ok(load(), 'rows land after the reload');
is(scalar(lines_since($m3, 'debug')), 0, 'no debug line after the reload');

is($p->stop, 0, 'stops cleanly, exit 0');
done_testing;
