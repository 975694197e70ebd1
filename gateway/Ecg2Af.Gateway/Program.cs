using Ecg2Af.Gateway;
using Ecg2Af.Gateway.Routing;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddWorkerRouting();

var app = builder.Build();
app.UseServiceDefaults();
app.UseWebForm();
app.MapDefaultEndpoints();
app.MapReverseProxy();
app.Run();
