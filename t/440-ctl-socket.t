#!/usr/bin/perl
# The control socket itself: peer credentials, a stale socket replaced, one in use left alone,
# a missing directory, the connection cap.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness;
use CtlTest;
use File::Copy qw(copy);
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);

my ($r, $pg) = Harness::stack(ready => 0);

# a stale socket (nobody listening) at the path is replaced
my $dir = Harness::tmpdir('ctl');
chmod 0711, $dir;
my $sock = "$dir/control.sock";
{
	my $s = IO::Socket::UNIX->new(Local => $sock, Listen => 1) or die "$sock: $!";
	close $s;	# the file stays, nobody answers
}
ok(-S $sock, 'stale socket file in place');
my $p = Harness::Processor->start(redis => $r, pg => $pg,
    config => { processor => { workers => 1 }, control => { socket => $sock } });
ok($p->wait_ready(60), 'processor ready') or BAIL_OUT('no start');
ok($p->wait_log(qr/removing stale socket/, 10), 'stale socket removed (logged)');
my ($rc, $j) = ctl_json($sock, 'status');
is($rc, 0, 'the new socket answers');
is($j->{pid}, $p->pid, 'it is this master');

# a second master on the same path leaves the live socket alone and runs without one
my $p2 = Harness::Processor->start(redis => $r, pg => $pg,
    config => { processor => { workers => 1 }, control => { socket => $sock },
    redis => { consumer_prefix => 'second' } });
ok($p2->wait_ready(60), 'second master ready anyway');
ok($p2->wait_log(qr/control socket \Q$sock\E: .*(in use|Address already)/, 10), 'second master logs the clash');
($rc, $j) = ctl_json($sock, 'status');
is($j->{pid}, $p->pid, 'the socket still belongs to the first master');
is($p2->stop, 0, 'second master stops');
ok(-S $sock, 'and did not remove the first master\'s socket');
($rc) = ctl($sock, 'status');
is($rc, 0, 'first master still reachable');

# a missing directory: the daemon runs, without control
my $p3 = Harness::Processor->start(redis => $r, pg => $pg,
    config => { processor => { workers => 1 }, control => { socket => "$dir/nope/control.sock" },
    redis => { consumer_prefix => 'third' } });
ok($p3->wait_ready(60), 'master with a missing socket directory still runs');
ok($p3->wait_log(qr/control socket .*nope.*No such file/, 10), 'and says why processorctl will not work');
is($p3->stop, 0, 'third master stops');

# the per-uid connection cap (8 of the 16): the 9th connection is refused with an error line
local $SIG{PIPE} = 'IGNORE';
my @held;
for (1 .. 8) {
	push @held, IO::Socket::UNIX->new(Peer => $sock, Type => SOCK_STREAM) or last;
}
is(scalar @held, 8, '8 connections open');
# make sure the master accepted them all before the next one
for my $h (@held) {
	print $h qq({"v":1,"cmd":"workers"}\n);
	my $l = <$h>;
}
my ($x) = IO::Socket::UNIX->new(Peer => $sock, Type => SOCK_STREAM);
my $line = $x ? <$x> : '';
like($line // '', qr/"ok":false.*too many control connections/, '9th refused with an error reply');
close $_ for @held, grep { defined } $x;
ok(wait_until(sub { (ctl($sock, 'workers'))[0] == 0 }, timeout => 10), 'accepted again once they closed');

SKIP: {
	skip 'peer credential tests need root', 9 if $> != 0;
	my $runuser = Harness::which('runuser') or skip 'runuser not installed', 9;
	my $nobody = getpwnam('nobody');
	skip 'no user nobody', 9 unless defined $nobody;
	# let nobody reach the socket at all: the check under test is SO_PEERCRED
	chmod 0666, $sock;
	my $bin = Harness::tmpdir('bin') . '/processorctl';
	copy(ctl_bin(), $bin) or die "copy: $!";
	chmod 0755, $bin;
	chmod 0755, (Harness::tmproot(), $bin =~ s{/[^/]+$}{}r);
	my @cmd = ($runuser, '-u', 'nobody', '--', $bin, '--socket', $sock);
	my $mark = $p->mark;
	my ($rc2, $out, $err) = Harness::run_cmd([@cmd, 'status']);
	is($rc2, 1, 'uid nobody: exit 1') or diag("$out $err");
	like($err, qr/permission denied: uid $nobody may not use this socket/, 'refused with an error reply');
	ok($p->wait_log(qr/control: refused uid $nobody\b/, 10, from => $mark), 'refusal logged');
	my ($w) = grep { $_->{_line} =~ /refused uid $nobody/ } $p->log_lines;
	is($w->{level}, 'warning', 'at warning level');
	# nobody in our group (root, gid 0) may
	($rc2, $out, $err) = Harness::run_cmd([$runuser, '-u', 'nobody', '-g', 'root', '--', $bin,
	    '--socket', $sock, 'workers']);
	is($rc2, 0, 'uid nobody with our gid: allowed') or diag($err);
	($rc2, $out, $err) = Harness::run_cmd([$runuser, '-u', 'nobody', '-G', 'root', '--', $bin,
	    '--socket', $sock, 'workers']);
	is($rc2, 0, 'uid nobody with our gid as a supplementary group: allowed') or diag($err);
	chmod 0660, $sock;
	# outside the socket's group the kernel refuses connect(2): EACCES
	($rc2, $out, $err) = Harness::run_cmd([@cmd, 'status']);
	is($rc2, 1, 'uid nobody, socket 0660: exit 1 as for a refused peer') or diag($err);
	my $grp = getgrgid((stat $sock)[5]);
	like($err, qr/\Q$sock\E: permission denied: add yourself to group \Q$grp\E$/m,
	    'EACCES names the group to join');
	unlike($err, qr/is processor running/, 'no hint that the daemon is down');
}
is($p->stop, 0, 'clean exit');
ok(!-e $sock, 'socket removed');
done_testing;
