using Ecg2Af.Worker.Predictions;

namespace Ecg2Af.Worker.Tests.Predictions;

public class PredictionFormTests
{
    [Theory]
    [InlineData("test@example.org")]
    [InlineData("first.last+tag@sub.example.co.uk")]
    public void IsValidEmail_PlainAddress_Accepted(string email) => Assert.True(PredictionForm.IsValidEmail(email));

    [Theory]
    [InlineData("not-an-address")]
    [InlineData("name@localhost")]
    [InlineData("Name <name@example.org>")]
    [InlineData("name@example.org.")]
    [InlineData("two@@example.org")]
    public void IsValidEmail_NotAPlainAddress_Refused(string email) => Assert.False(PredictionForm.IsValidEmail(email));
}
