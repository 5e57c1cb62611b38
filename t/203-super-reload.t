#!/usr/bin/perl
# SIGHUP: a valid changed config rolls the workers one at a time; an invalid one is refused.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
BEGIN { eval { require Harness; 1 } or do { print "1..0 # SKIP t/lib/Harness.pm not available\n"; exit 0 } }
use Harness;
use HTTP::Tiny;

my ($r, $pg, $p) = Harness::stack(ready => 60, notify => 1,
    config => { processor => { workers => 2 } });
my @before = sort { $a <=> $b } $p->children;
is(scalar @before, 2, 'two workers');

# Keep records flowing through the reload.
my $sum = Harness::gen(redis => $r, n => 20_000, devices => 100);

# Invalid: the running configuration stays, nobody is restarted.
my $good = $p->config;
$p->write_config("[processor]\nworkers = many\n");
my $mark = $p->mark;
$p->signal('HUP');
ok($p->wait_log(qr/reload failed, keeping the running configuration: .*workers/, 10,
    from => $mark), 'invalid config: logged with the reason');
is_deeply([sort { $a <=> $b } $p->children], \@before, 'workers untouched');
ok(!grep({ /RELOADING=1/ } $p->notify_messages), 'no RELOADING=1 for a refused reload');

# Valid and changed: three workers, and the HTTP listener moves.
my $old_port = $p->http_port;
my $new_port = free_port();
$good->{processor}{workers} = 3;
$good->{http}{listen} = "127.0.0.1:$new_port";
$p->write_config($good);
$mark = $p->mark;
$p->signal('HUP');
ok($p->wait_notify(qr/^RELOADING=1\nMONOTONIC_USEC=\d+/m, 10), 'RELOADING=1 with MONOTONIC_USEC');
ok($p->wait_log(qr/reload complete/, 60, from => $mark), 'reload completes');
my @after = sort { $a <=> $b } $p->children;
is(scalar @after, 3, 'three workers now');
my %old = map { $_ => 1 } @before;
ok(!(grep { $old{$_} } @after), 'every old worker was replaced');

# One at a time: each replacement said hello before the next old worker was asked to stop.
my @ev = map { $_->{message} } grep { ($_->{message} // '') =~ /^(reload: replacing worker|worker \d+ \(pid \d+\) is up)/ }
    ($p->log_lines)[$mark .. $p->mark - 1];
my $ok = 1;
my $open = 0;
for (@ev) {
	if (/^reload: replacing/) { $ok = 0 if $open; $open = 1 }
	else { $open = 0 }
}
ok($ok, 'rolling: never two workers replaced at once') or diag(join "\n", @ev);
my @n = $p->notify_messages;
my ($ri) = grep { $n[$_] =~ /RELOADING=1/ } 0 .. $#n;
ok(defined $ri && (grep { $n[$_] =~ /^READY=1/m } $ri + 1 .. $#n), 'READY=1 after RELOADING=1');

ok(wait_until(sub { $pg->psql('select count(*) from positions') == $sum->{valid} },
    timeout => 120, desc => 'rows'), 'every row landed across the reload');
ok(wait_until(sub { $r->pending('telemetry:t', 'processor') == 0 }, timeout => 30,
    desc => 'pending'), 'nothing pending');
my $res = HTTP::Tiny->new->get("http://127.0.0.1:$new_port/metrics");
like($res->{content}, qr/^processor_workers_configured 3$/m, 'metrics on the new port see 3 workers');
is(HTTP::Tiny->new(timeout => 3)->get("http://127.0.0.1:$old_port/healthz")->{status}, 599,
    'the old port is closed');
is($p->stop, 0, 'clean stop');
done_testing;
