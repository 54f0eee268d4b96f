using Disagg.Abi.Io;
using Disagg.Xenbus.Backend;
using static Disagg.Abi.Io.XenbusState;

namespace Disagg.Xenbus.Tests;

/// <summary>Every frontend state the backend can see, for both restart rules (spec §7, ARCHITECTURE §6).</summary>
public sealed class HandshakeRulesTests
{
    [Theory]
    [InlineData(Initialising, HandshakeStep.Offer)]
    [InlineData(InitWait, HandshakeStep.Offer)]
    [InlineData(Initialised, HandshakeStep.Connect)]
    [InlineData(Closing, HandshakeStep.Closing)]
    [InlineData(Closed, HandshakeStep.Closed)]
    [InlineData(Unknown, HandshakeStep.Closed)]
    [InlineData(Reconfiguring, HandshakeStep.Offer)]
    public void A_device_not_connected_follows_its_frontend(XenbusState frontend, HandshakeStep expected)
    {
        foreach (var rule in new[] { RestartRule.ResumeRings, RestartRule.FreshRingOnly })
        {
            Assert.Equal(expected, HandshakeRules.Next(frontend, InitWait, detaching: false, connected: false, rule));
        }
    }

    [Fact]
    public void A_frontend_found_Connected_after_a_restart_is_resumed_or_left_to_reconnect_by_the_restart_rule()
    {
        Assert.Equal(HandshakeStep.Connect, HandshakeRules.Next(Connected, Unknown, false, connected: false, RestartRule.ResumeRings));
        Assert.Equal(HandshakeStep.Stay, HandshakeRules.Next(Connected, Unknown, false, connected: false, RestartRule.FreshRingOnly));
    }

    [Fact]
    public void A_connected_device_checks_for_new_keys_and_reconnects_a_reinitialised_ring()
    {
        foreach (var rule in new[] { RestartRule.ResumeRings, RestartRule.FreshRingOnly })
        {
            Assert.Equal(HandshakeStep.Connect, HandshakeRules.Next(Connected, Initialised, false, connected: true, rule));
            Assert.Equal(HandshakeStep.Connect, HandshakeRules.Next(Initialised, Initialised, false, connected: true, rule));
            Assert.Equal(HandshakeStep.Reconnect, HandshakeRules.Next(Initialised, Connected, false, connected: true, rule));
            Assert.Equal(HandshakeStep.Offer, HandshakeRules.Next(Initialising, Connected, false, connected: true, rule));
            Assert.Equal(HandshakeStep.Closing, HandshakeRules.Next(Closing, Connected, false, connected: true, rule));
        }
    }

    [Theory]
    [InlineData(Connected)]
    [InlineData(Initialised)]
    [InlineData(Initialising)]
    public void The_toolstacks_detach_closes_whatever_the_frontend_says(XenbusState frontend)
    {
        Assert.Equal(HandshakeStep.Closed, HandshakeRules.Next(frontend, Connected, detaching: true, connected: true, RestartRule.ResumeRings));
        Assert.Equal(HandshakeStep.Closed, HandshakeRules.Next(frontend, Connected, detaching: true, connected: false, RestartRule.FreshRingOnly));
    }
}
