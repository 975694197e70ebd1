namespace Ecg2Af.Worker.Predictions;

internal static class PredictionsExtensions
{
    public static WebApplicationBuilder AddPredictions(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<InferenceExecutor>();
        return builder;
    }
}
