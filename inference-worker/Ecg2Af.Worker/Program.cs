using Ecg2Af.Worker;
using Ecg2Af.Worker.Audit;
using Ecg2Af.Worker.InferenceProtocol;
using Ecg2Af.Worker.Models;
using Ecg2Af.Worker.Predictions;
using Ecg2Af.Worker.Preprocessing;
using Ecg2Af.Worker.Security;
using Ecg2Af.Worker.Uploads;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddUploads();
builder.AddModelServing();
builder.AddPredictions();
builder.AddAudit();
builder.AddApiKeys();

var app = builder.Build();
app.UseServiceDefaults();
app.UseWorkerIdentity();
app.UseCallerIdentity();
app.MapDefaultEndpoints();
app.MapPredictionsApi();
app.MapBatchPredictionsApi();
app.MapInferenceProtocol();
app.MapPreprocessApi();
app.MapAuditApi();
app.Run();
