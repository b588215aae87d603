#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The management scenario with Perl SOAP::Lite (Debian libsoap-lite-perl),
# a client that reads no WSDL: every call is built by hand as a
# document/literal message in the vs namespace, as a script from a
# management tool would. Run by run_client_scenario.py, which starts vsad
# with two accounts (an administrator and "viewer") and passes:
#
#   soap_lite_client.pl URL CA_FILE ADMIN ADMIN_PASSWORD VIEWER VIEWER_PASSWORD ISO
#
# Scenario: log on (Session_Logon, then the SessionToken header); create a
# dynamic VHD (task), a VM, attach the disk and a DVD image, start it
# (task), see it Running with a non-empty thumbnail, pause, resume, save
# (task), start it again from the saved state, turn it off, read the event
# log, and delete it; an ACL step where the viewer is denied reading a VM
# until the administrator allows it. Prints "N passed, N failed".
use strict;
use warnings;
use SOAP::Lite;
use Time::HiRes qw(sleep time);

my ($url, $ca, $admin, $admin_password, $viewer, $viewer_password, $iso) = @ARGV;
die "usage: $0 URL CA ADMIN PASSWORD VIEWER PASSWORD ISO\n" unless defined $iso;

my $NS = 'urn:vsa:virtualserver:1';
my ($passed, $failed) = (0, 0);

sub check {
    my ($condition, $what) = @_;
    if ($condition) {
        $passed++;
        print "ok - $what\n";
    } else {
        $failed++;
        print "not ok - $what\n";
    }
    return $condition;
}

sub client {
    my $soap = SOAP::Lite->new(proxy => [$url, ssl_opts => {SSL_ca_file => $ca}, timeout => 120]);
    $soap->ns($NS, 'vs');
    $soap->autotype(0);
    $soap->on_action(sub { "$NS#$_[1]" });
    # A SOAP fault comes back as the message (checked by the caller); only
    # a transport failure dies.
    $soap->on_fault(sub { my ($s, $r) = @_; ref $r ? $r : die "transport failure: " . $s->transport->status . "\n" });
    return $soap;
}

# call(session, operation, name => value, ...): a value that is an array
# reference becomes an ArrayOfString.
sub call {
    my ($session, $op, @params) = @_;
    my @args;
    while (my ($name, $value) = splice(@params, 0, 2)) {
        if (ref $value eq 'ARRAY') {
            push @args, SOAP::Data->name("vs:$name" => \SOAP::Data->value(map { SOAP::Data->name('vs:item' => $_) } @$value));
        } else {
            push @args, SOAP::Data->name("vs:$name" => $value);
        }
    }
    push @args, SOAP::Header->name('vs:SessionToken' => $session->{token}) if $session->{token};
    return $session->{soap}->call("vs:$op", @args);
}

# The answer of a call that must succeed.
sub value {
    my ($session, $op, @params) = @_;
    my $som = call($session, $op, @params);
    if ($som->fault) {
        check(0, "$op: " . ($som->valueof('//hresultName') // '') . ' ' . ($som->valueof('//message') // $som->faultstring));
        return undef;
    }
    return scalar $som->valueof('//returnval');
}

# The items of a call answering an array.
sub items {
    my ($session, $op, @params) = @_;
    my $som = call($session, $op, @params);
    if ($som->fault) {
        check(0, "$op: " . ($som->valueof('//hresultName') // '') . ' ' . ($som->valueof('//message') // $som->faultstring));
        return ();
    }
    return $som->valueof('//returnval/item');
}

sub fault_name {
    my ($session, $op, @params) = @_;
    my $som = call($session, $op, @params);
    return $som->fault ? ($som->valueof('//hresultName') // 'no hresultName') : 'no fault';
}

sub logon {
    my ($user, $password) = @_;
    my $session = {soap => client()};
    my $token = value($session, 'Session_Logon', userName => $user, password => $password);
    $session->{token} = $token;
    return $session;
}

sub wait_task {
    my ($session, $task, $what) = @_;
    my $deadline = time + 120;
    while (1) {
        my $done = value($session, 'IVMTask_WaitForCompletion', _this => $task, timeout => 5000);
        last if !defined $done || $done eq 'true' || time > $deadline;
    }
    my $result = value($session, 'IVMTask_get_Result', _this => $task);
    check(defined $result && $result == 0,
          "$what completes (Result $result: " . (value($session, 'IVMTask2_get_ErrorDescription', _this => $task) // '') . ')');
}

my $a = logon($admin, $admin_password);
check($a->{token} && length($a->{token}) > 20, 'Session_Logon returns a token');
check(value($a, 'Session_CurrentUser') eq $admin, 'the token authenticates as the administrator');
check(fault_name({soap => client()}, 'IVMVirtualServer_get_Name') eq 'E_ACCESSDENIED', 'no token, no access');

my $folder = value($a, 'IVMVirtualServer_get_DefaultVMConfigurationPath');
my $vhd = "$folder/perl/perl.vhd";
my $task = value($a, 'IVMVirtualServer_CreateDynamicVirtualHardDisk', imagePath => $vhd, size => 64);
wait_task($a, $task, 'CreateDynamicVirtualHardDisk');
check(-f $vhd, 'the VHD exists');

my $vm = value($a, 'IVMVirtualServer_CreateVirtualMachine', configurationName => 'perl-vm', configurationPath => '');
check($vm, 'CreateVirtualMachine');
value($a, 'IVMVirtualMachine_set_Memory', _this => $vm, memory => 32);
my $disk = value($a, 'IVMVirtualMachine_AddHardDiskConnection', _this => $vm, hardDiskPath => $vhd, busType => 0,
                 busNumber => 0, deviceNumber => 0);
check($disk, 'AddHardDiskConnection');
my $dvd = value($a, 'IVMVirtualMachine_AddDVDROMDrive', _this => $vm, busType => 0, busNumber => 1, deviceNumber => 0);
value($a, 'IVMDVDDrive_AttachImage', _this => $dvd, imagePath => $iso);
check(value($a, 'IVMDVDDrive_get_ImageFile', _this => $dvd) eq $iso, 'the DVD image is attached');

my $mark = value($a, 'IVMVirtualServer_get_LastEventSequence');
wait_task($a, value($a, 'IVMVirtualMachine_Startup', _this => $vm), 'Startup');
check(value($a, 'IVMVirtualMachine_get_State', _this => $vm) == 5, 'the VM is Running');
my $display = value($a, 'IVMVirtualMachine_get_Display', _this => $vm);
my @pixels;
for (1 .. 50) {    # the firmware needs a moment to draw something
    @pixels = items($a, 'IVMDisplay_get_Thumbnail', _this => $display);
    last if grep { $_ != 0 } @pixels;
    sleep 0.2;
}
check(@pixels == 64 * 48, 'the thumbnail has 64 x 48 pixels');
check((grep { $_ != 0 } @pixels) > 0, 'the thumbnail is not blank');

value($a, 'IVMVirtualMachine_Pause', _this => $vm);
check(value($a, 'IVMVirtualMachine_get_State', _this => $vm) == 6, 'Pause: the VM is Paused');
value($a, 'IVMVirtualMachine_Resume', _this => $vm);
check(value($a, 'IVMVirtualMachine_get_State', _this => $vm) == 5, 'Resume: the VM is Running');
wait_task($a, value($a, 'IVMVirtualMachine_Save', _this => $vm), 'Save');
check(value($a, 'IVMVirtualMachine_get_State', _this => $vm) == 2, 'the VM is Saved');
wait_task($a, value($a, 'IVMVirtualMachine_Startup', _this => $vm), 'Startup from the saved state');
check(value($a, 'IVMVirtualMachine_get_State', _this => $vm) == 5, 'restored and Running');
wait_task($a, value($a, 'IVMVirtualMachine_TurnOff', _this => $vm), 'TurnOff');
check(value($a, 'IVMVirtualMachine_get_State', _this => $vm) == 1, 'the VM is TurnedOff');

my $som = call($a, 'IVMVirtualServer_GetEvents', afterSequence => $mark, maxCount => 1000);
my @states = map { $_->{state} } grep { $_->{kind} eq 'OnVMStateChange' && $_->{object} eq $vm } $som->valueof('//returnval/item');
check(join(',', @states) eq '3,5,6,5,7,2,3,4,5,8,1', 'the event log has every state in order (' . join(',', @states) . ')');

# ACLs: the viewer may not read the VM until the administrator allows it.
my $v = logon($viewer, $viewer_password);
my $vm2 = value($a, 'IVMVirtualServer_CreateVirtualMachine', configurationName => 'perl-acl', configurationPath => '');
my $denied = call($v, 'IVMVirtualMachine_get_Name', _this => $vm2);
check($denied->fault && $denied->valueof('//hresultName') eq 'E_ACCESSDENIED' && $denied->valueof('//message') =~ /read right/,
      'the viewer is denied, and told which right');
my $security = value($a, 'IVMVirtualMachine_get_Security', _this => $vm2);
my $entry = value($a, 'IVMSecurity_AddEntry', _this => $security, nameOrSid => $viewer, type => 0);
value($a, 'IVMAccessRights_set_ReadAccess', _this => $entry, readAccess => 'true');
check((value($v, 'IVMVirtualMachine_get_Name', _this => $vm2) // '') eq 'perl-acl', 'allowed, the viewer reads it');
check(fault_name($v, 'IVMVirtualMachine_Startup', _this => $vm2) eq 'E_ACCESSDENIED', 'but may not start it');

check(value($a, 'IVMVirtualServer_DeleteVirtualMachine', virtualMachine => $vm) eq 'true', 'DeleteVirtualMachine');
check(value($a, 'IVMVirtualServer_DeleteVirtualMachine', virtualMachine => $vm2) eq 'true', 'DeleteVirtualMachine (ACL VM)');
check(!grep({ $_ eq $vm } items($a, 'IVMVirtualServer_get_VirtualMachines')), 'the VM is gone');
value($a, 'Session_Logoff');
check(fault_name($a, 'IVMVirtualServer_get_Name') eq 'E_ACCESSDENIED', 'Session_Logoff ends the session');

print "$passed passed, $failed failed\n";
exit($failed ? 1 : 0);
