# Helpers for the processorctl tests: run the CLI against a Harness::Processor, decode --json.
package CtlTest;

use strict;
use warnings;
use Exporter qw(import);
use JSON::PP ();
use Harness;

our @EXPORT = qw(ctl ctl_json ctl_bin);

=head1 FUNCTIONS

=over

=item ctl_bin()

Path of the built processorctl.

=item ctl(P | PATH, ARGS...)

Runs processorctl --socket SOCKET ARGS (P a Harness::Processor or a socket path);
returns (exit code, stdout, stderr).

=item ctl_json(P | PATH, ARGS...)

Runs it with --json; returns (exit code, decoded reply or undef, stdout, stderr).

=back

=cut

sub ctl_bin { return Harness::builddir() . '/processorctl/processorctl' }

sub ctl
{
	my ($p, @args) = @_;
	my $sock = ref $p ? $p->control_socket : $p;
	my %o;
	%o = %{shift @args} if ref $args[0] eq 'HASH';
	return Harness::run_cmd([@{$o{prefix} // []}, ctl_bin(), '--socket', $sock, @args],
	    timeout => $o{timeout} // 90);
}

sub ctl_json
{
	my ($p, @args) = @_;
	my ($rc, $out, $err) = ctl($p, '--json', @args);
	my $r = eval { JSON::PP::decode_json((split /\n/, $out)[0] // '') };
	return ($rc, $r, $out, $err);
}

1;
