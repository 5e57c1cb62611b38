#!/usr/bin/perl
# processorctl status/workers/reload against a running master; master down; malformed reply; usage.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use Harness;
use CtlTest;

my ($r, $pg, $p) = Harness::stack(ready => 60,
    config => { processor => { workers => 2 } });
ok(wait_until(sub { -S $p->control_socket }, timeout => 10), 'control socket exists');
my $mode = (stat $p->control_socket)[2] & 07777;
is(sprintf('%04o', $mode), '0660', 'socket mode 0660');

# status, both forms
my ($rc, $j, $out, $err) = ctl_json($p, 'status');
is($rc, 0, 'status --json exit 0') or diag($err);
ok($j->{ok}, 'ok true');
is($j->{pid}, $p->pid, 'status names the master pid');
is(scalar @{$j->{workers}}, 2, 'two workers listed');
ok(Harness::pid_alive($_->{pid}), "worker pid $_->{pid} exists") for @{$j->{workers}};
my %kids = map { $_ => 1 } $p->children;
ok($kids{$_->{pid}}, "worker $_->{slot} is a child of the master") for @{$j->{workers}};
like($j->{config}, qr/processor\.conf$/, 'config file named');
ok(defined $j->{uptime_s} && defined $j->{version}, 'uptime and version');
ok(wait_until(sub { (ctl_json($p, 'status'))[1]{ready} }, timeout => 20), 'ready true');

($rc, $out, $err) = ctl($p, 'status');
is($rc, 0, 'status exit 0');
like($out, qr/^processor \S+, pid ${\$p->pid}, up /m, 'human: header');
like($out, qr/^state:\s+running, ready$/m, 'human: state line');
like($out, qr/^SLOT\s+PID\s+CONSUMER\s+STATE\s+READY\s+RESTARTS\s+INSERTED\s+ROWS\/S/m, 'human: table header');
for my $w (@{$j->{workers}}) {
	like($out, qr/^$w->{slot}\s+$w->{pid}\s+\Q$w->{consumer}\E\s+running\s+yes\b/m,
	    "human: worker $w->{slot} row");
}

# rows inserted show up in the table
my $sum = Harness::gen(redis => $r, n => 2000, devices => 10);
ok(wait_until(sub { $pg->psql('select count(*) from positions') == $sum->{valid} },
    timeout => 60), 'rows landed');
ok(wait_until(sub {
	my (undef, $s) = ctl_json($p, 'workers');
	my $t = 0;
	$t += $_->{inserted} for @{$s->{workers} // []};
	return $t == $sum->{valid};
}, timeout => 10), 'workers: inserted sums to the row count');
($rc, $out) = ctl($p, 'workers');
is($rc, 0, 'workers exit 0');
like($out, qr/^SLOT\s+PID/m, 'workers table');
unlike($out, qr/^processor /m, 'workers: no status header');

# abbreviations resolve through the keyword table
($rc, $j) = ctl_json($p, 'stat');
is($rc, 0, 'unique prefix "stat" works');
ok($j->{workers}, 'and is status');

# usage errors
($rc, $out, $err) = ctl($p, 'frobnicate');
is($rc, 2, 'unknown command: exit 2');
like($err, qr/unknown or ambiguous word 'frobnicate'/, 'names the word');
($rc, undef, $err) = ctl($p, 'dlq');
is($rc, 2, 'dlq alone: exit 2');
like($err, qr/incomplete command; expected one of: list, show, replay, purge/, 'lists what fits');
($rc, undef, $err) = ctl($p, 'status', 'extra');
is($rc, 2, 'extra argument: exit 2');
($rc, undef, $err) = ctl($p, 'claim', '--idle', 'x');
is($rc, 2, 'bad --idle: exit 2');
($rc, $out) = ctl($p, '--help');
is($rc, 0, '--help exit 0');
like($out, qr/dlq replay ID\.\.\. \| --all/, '--help lists the commands');
($rc) = ctl($p, '--timeout', 'abc', 'status');
is($rc, 2, 'bad --timeout: exit 2');

# reload: valid, then invalid config
my $mark = $p->mark;
($rc, $j) = ctl_json($p, 'reload');
is($rc, 0, 'reload exit 0');
like($j->{message}, qr/reloading/, 'reload message');
ok($p->wait_log(qr/reload complete/, 60, from => $mark), 'the master reloaded');
$mark = $p->mark;
($rc, $out) = ctl($p, 'reload');
like($out, qr/^reloading: workers are replaced one at a time$/m, 'human: reload');
ok($p->wait_log(qr/reload complete/, 60, from => $mark), 'reloaded again');
my $cfg = $p->config;
$p->write_config({ %$cfg, processor => { workers => 'many' } });
($rc, $j, $out, $err) = ctl_json($p, 'reload');
is($rc, 1, 'invalid config: exit 1');
like($j->{error}, qr/configuration is invalid, nothing changed/, 'says why');
($rc, undef, $err) = ctl($p, 'reload');
like($err, qr/^processorctl: configuration is invalid/m, 'human form: error on stderr');
$p->write_config($cfg);

# the env var names the socket
# (status exits 1 until the reloaded workers report ready)
ok(wait_until(sub { ($rc) = Harness::run_cmd([ctl_bin(), 'status'],
    env => { PROCESSORCTL_SOCKET => $p->control_socket }); $rc == 0 }, timeout => 20),
    'PROCESSORCTL_SOCKET is used');

# -c FILE: the socket from [control] socket of the daemon's configuration
{
	my $conf = Harness::tmpdir('ctlconf') . '/processor.conf';
	open(my $fh, '>', $conf) or die "$conf: $!";
	print $fh "; comment\n[redis]\nsocket = /nonexistent/wrong-section.sock\n\n"
	    . "  [control]\n# socket = /nonexistent/commented.sock\n  socket = "
	    . $p->control_socket . "  \n[http]\nlisten = 127.0.0.1:1\n";
	close $fh;
	my ($crc, $cout, $cerr) = Harness::run_cmd([ctl_bin(), '-c', $conf, 'workers'],
	    env => { PROCESSORCTL_SOCKET => undef });
	is($crc, 0, '-c FILE: the socket comes from [control] socket') or diag($cerr);
	($crc, undef, $cerr) = Harness::run_cmd([ctl_bin(), '--config', $conf, '--socket',
	    '/nonexistent/x.sock', 'workers'], env => { PROCESSORCTL_SOCKET => undef });
	is($crc, 3, '--socket wins over the configuration');
	like($cerr, qr{/nonexistent/x\.sock}, 'and is the one named');
	($crc, undef, $cerr) = Harness::run_cmd([ctl_bin(), '-c', "$conf.missing", 'workers'],
	    env => { PROCESSORCTL_SOCKET => undef });
	is($crc, 2, '-c with a missing file: usage error');
	like($cerr, qr/\Q$conf\E\.missing: No such file/, 'names the file');
}

# a raw protocol conversation: errors do not close, bad version refused
use IO::Socket::UNIX;
my $s = IO::Socket::UNIX->new(Peer => $p->control_socket) or die "connect: $!";
print $s qq({"v":2,"cmd":"status"}\n);
like(scalar <$s>, qr/"ok":false.*unsupported protocol version/, 'version checked');
print $s "not json\n";
like(scalar <$s>, qr/"ok":false.*malformed request/, 'garbage: error reply');
print $s qq({"v":1,"cmd":"nope"}\n);
like(scalar <$s>, qr/unknown command/, 'unknown cmd');
print $s qq({"v":1,"cmd":"device","device":""}\n);
like(scalar <$s>, qr/"ok":false/, 'bad device id');
print $s qq({"v":1,"cmd":"workers"}\n{"v":1,"cmd":"workers"}\n);
like(scalar <$s>, qr/"ok":true/, 'pipelined request 1');
like(scalar <$s>, qr/"ok":true/, 'pipelined request 2');
print $s 'x' x 70000;
like(scalar <$s>, qr/request too long/, 'oversized request refused');
ok(!defined scalar <$s>, 'and the connection closed');
close $s;
# clients that leave before their answer: the master drops the replies, nothing else
for my $req (qq({"v":1,"cmd":"pending"}\n), qq({"v":1,"cmd":"device","device":"gone"}\n),
    qq({"v":1,"cmd":"dlq list"}\n), qq({"v":1,"cmd":"status"}\n)) {
	my $c = IO::Socket::UNIX->new(Peer => $p->control_socket) or die "connect: $!";
	print $c $req;
	close $c;
}
$s = IO::Socket::UNIX->new(Peer => $p->control_socket) or die "connect: $!";
print $s qq({"v":1,"cmd":"st\u0000atus"}\n);
like(scalar <$s>, qr/"ok":false/, 'a NUL in the command: error reply');
print $s "\n";
like(scalar <$s>, qr/"ok":false.*malformed request/, 'an empty line: error reply');
print $s qq({"v":1,"cmd":"status","cmd":"workers"}\n);
like(scalar <$s>, qr/"ok":false.*malformed request/, 'duplicate keys refused');
close $s;
ok(wait_until(sub { (ctl($p, 'workers'))[0] == 0 }, timeout => 10), 'still answering');
ok($p->running, 'master survived all that');

# status for scripts: exit 1 while not ready (draining), 0 once ready again
ok(wait_until(sub { (ctl($p, 'status'))[0] == 0 }, timeout => 20), 'ready: status exit 0');
is((ctl($p, 'drain'))[0], 0, 'drain');
my ($src, $sout);
ok(wait_until(sub { ($src, $sout) = ctl($p, 'status'); $src == 1 }, timeout => 10),
    'not ready: status exit 1');
like($sout, qr/^state:.*not ready \(.*draining.*\)$/m, 'and says why') or diag($sout);
is((ctl_json($p, 'status'))[0], 1, 'status --json: exit 1 too');
is((ctl($p, 'resume'))[0], 0, 'resume');
ok(wait_until(sub { (ctl($p, 'status'))[0] == 0 }, timeout => 10), 'ready again: exit 0');

# master down: exit 3 with a clear message
is($p->stop, 0, 'master stops');
ok(!-e $p->control_socket, 'socket removed at exit');
($rc, $out, $err) = ctl($p, 'status');
is($rc, 3, 'master down: exit 3');
like($err, qr/cannot connect to \Q${\$p->control_socket}\E/, 'names the socket');
like($err, qr/systemctl status processor/, 'hints systemctl');

# a fake master answering garbage: exit 4
my $fake = Harness::tmpdir('fake') . '/fake.sock';
my $srv = IO::Socket::UNIX->new(Local => $fake, Listen => 1) or die "$fake: $!";
my $pid = fork;
if (!$pid) {
	for my $answer ("this is not json\n", qq({"no_ok":1}\n), "") {
		my $c = $srv->accept or last;
		my $req = <$c>;
		print $c $answer;
		close $c;
	}
	exit 0;
}
($rc, undef, $err) = ctl($fake, 'status');
is($rc, 4, 'garbage reply: exit 4');
like($err, qr/malformed reply/, 'says malformed');
($rc) = ctl($fake, 'status');
is($rc, 4, 'object without ok: exit 4');
($rc, undef, $err) = ctl($fake, 'status');
is($rc, 4, 'closed without reply: exit 4');
like($err, qr/closed the connection/, 'says closed');
waitpid($pid, 0);

# a silent master: --timeout gives exit 4
my $pid2 = fork;
if (!$pid2) {
	my $c = $srv->accept;
	sleep 5;
	exit 0;
}
my $t0 = time;
($rc, undef, $err) = ctl($fake, '--timeout', '1', 'status');
is($rc, 4, 'no reply within --timeout: exit 4');
like($err, qr/no reply in time/, 'says timeout');
kill 'KILL', $pid2;
waitpid($pid2, 0);
done_testing;
