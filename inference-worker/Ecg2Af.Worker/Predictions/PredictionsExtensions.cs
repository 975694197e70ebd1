using Ecg2Af.Inference.Batch;
using Ecg2Af.Inference.Serving;

namespace Ecg2Af.Worker.Predictions;

internal static class PredictionsExtensions
{
    public static WebApplicationBuilder AddPredictions(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<InferenceExecutor>();

        // The batch endpoint: options bound and checked at start-up, one scorer over the worker's batcher.
        builder.Services.AddOptions<BatchOptions>()
            .BindConfiguration(BatchOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(sp =>
        {
            var scorer = new BatchScorer(sp.GetRequiredService<InferenceScheduler>());
            BatchMetrics.Register(scorer);
            return scorer;
        });
        builder.Services.AddSingleton<BatchGate>();
        builder.Services.AddSingleton<BatchAudit>();
        return builder;
    }
}
