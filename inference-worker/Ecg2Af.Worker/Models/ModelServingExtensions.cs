using System.ComponentModel.DataAnnotations;
using Ecg2Af.Inference.Repository;
using Ecg2Af.Inference.Serving;
using Ecg2Af.Worker.Serving;
using Microsoft.Extensions.Options;

namespace Ecg2Af.Worker.Models;

internal static class ModelServingExtensions
{
    /// <summary>
    /// The model repository (section <c>Model</c>) and the batcher in front of it (section <c>Serving</c>), both
    /// validated at start-up, with readiness tied to the default model and to draining.
    /// </summary>
    public static WebApplicationBuilder AddModelServing(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModelRepositoryOptions>()
            .BindConfiguration(ModelRepositoryOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<SchedulerOptions>()
            .BindConfiguration(SchedulerOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SchedulerOptions>, ThreadBudgetValidation>();

        // Serving:InferenceLoops 0 is the automatic layout from the cores this process may use (DOTNET_PROCESSOR_COUNT,
        // which the AppHost sets to each worker's share of the machine).
        builder.Services.AddOptions<SchedulerOptions>().PostConfigure<IOptions<ModelRepositoryOptions>>((options, model) =>
            options.InferenceLoops = ThreadBudget.Loops(model.Value.Runtime, options.InferenceLoops, Environment.ProcessorCount));

        // Shutdown waits for the drain (and the readiness delay) before the host gives up.
        var serving = builder.Configuration.GetSection(SchedulerOptions.Section).Get<SchedulerOptions>() ?? new SchedulerOptions();
        builder.Services.Configure<HostOptions>(o =>
            o.ShutdownTimeout = serving.DrainTimeout + serving.ShutdownReadinessDelay + TimeSpan.FromSeconds(10));

        builder.Services.AddSingleton<ServingMetrics>();
        builder.Services.AddSingleton<IRepositoryEvents, RepositoryEventLog>();
        builder.Services.AddSingleton(sp =>
        {
            var model = sp.GetRequiredService<IOptions<ModelRepositoryOptions>>().Value;
            var options = sp.GetRequiredService<IOptions<SchedulerOptions>>().Value;
            var (runtime, error) = ThreadBudget.Resolve(model.Runtime, options.InferenceLoops, Environment.ProcessorCount);
            return new ModelCatalog(model, runtime ?? throw new OptionsValidationException(SchedulerOptions.Section, typeof(SchedulerOptions), [error!]),
                options.InferenceLoops, sp.GetRequiredService<IRepositoryEvents>());
        });
        builder.Services.AddSingleton(sp => new InferenceScheduler(
            sp.GetRequiredService<IOptions<SchedulerOptions>>().Value, sp.GetRequiredService<ServingMetrics>()));

        builder.Services.AddSingleton<ModelRepositoryHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelRepositoryHost>());
        builder.Services.AddHostedService<ServingHost>();
        builder.Services.AddSingleton<WarmUpHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WarmUpHost>());
        builder.Services.AddHealthChecks().AddCheck<ModelReadyHealthCheck>("model", tags: [ServiceDefaults.ReadyTag]);
        return builder;
    }

    /// <summary>Intra-op threads × inference loops must fit the cores; nested option objects are checked too.</summary>
    private sealed class ThreadBudgetValidation(IOptions<ModelRepositoryOptions> model) : IValidateOptions<SchedulerOptions>
    {
        public ValidateOptionsResult Validate(string? name, SchedulerOptions options)
        {
            var errors = new List<string>();
            var runtime = model.Value.Runtime;
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(runtime, new ValidationContext(runtime), results, validateAllProperties: true)
                | !Validator.TryValidateObject(options.QueueCapacity, new ValidationContext(options.QueueCapacity), results, validateAllProperties: true))
            {
                errors.AddRange(results.Select(r => r.ErrorMessage ?? "invalid value"));
            }

            if (ThreadBudget.Resolve(runtime, options.InferenceLoops, Environment.ProcessorCount).Error is { } error)
            {
                errors.Add(error);
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
