using Ecg2Af.Worker;
using Ecg2Af.Worker.Models;
using Ecg2Af.Worker.Predictions;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddModelServing();
builder.AddPredictions();

var app = builder.Build();
app.UseServiceDefaults();
app.UseWorkerIdentity();
app.MapDefaultEndpoints();
app.MapPredictionsApi();
app.Run();
