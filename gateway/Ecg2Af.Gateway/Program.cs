using Ecg2Af.Gateway;
using Ecg2Af.Gateway.Clients;
using Ecg2Af.Gateway.Protection;
using Ecg2Af.Gateway.Routing;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddClientAddresses();
builder.AddProtection();
builder.AddWorkerRouting();

var app = builder.Build();
// Order matters: the client address first (trusted proxies only), then routing, rate limit and deadline.
app.UseSecurityHeaders();
app.UseServiceDefaults();
app.UseClientAddresses();
app.UseWebForm();
app.UseRouting();
app.UseHttpMetricsAfterRouting();
app.UseProtection();
app.MapDefaultEndpoints();
app.MapWorkerProxy();
app.Run();
